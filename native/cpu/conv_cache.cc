#include "cpu/conv_cache.h"
#include <vector>

namespace vgg {

void ActOperand::init(const dnnl::memory::desc& userMd, const dnnl::memory::desc& primMd) {
  dnnl::engine& eng = cpu().engine();
  user = dnnl::memory(userMd, eng, DNNL_MEMORY_NONE);
  viaScratch = !(userMd == primMd);
  if (viaScratch) {
    prim = dnnl::memory(primMd, eng);  // scratch owned by the cache entry, reused every call
    toPrim = dnnl::reorder(user, prim);
    toUser = dnnl::reorder(prim, user);
  } else {
    prim = user;
  }
}

dnnl::memory& ActOperand::bind(const Tensor& t) {
  user.set_data_handle(t.data());
  return prim;
}

void ActOperand::pull() {
  if (viaScratch) toPrim.execute(cpu().stream(), user, prim);
}
void ActOperand::push() {
  if (viaScratch) toUser.execute(cpu().stream(), prim, user);
}

namespace {
struct Slot {
  std::weak_ptr<Storage> owner;
  dnnl::memory::desc md;
  uint64_t version = 0;
  dnnl::memory plain, mem;
  dnnl::reorder toMem;
};
// Keyed by storage address; the weak owner tells a live storage from a new one at a reused address.
std::unordered_map<Storage*, std::vector<Slot>> gWeights;

void dropExpired() {
  for (auto it = gWeights.begin(); it != gWeights.end();) {
    auto& v = it->second;
    for (size_t i = 0; i < v.size();) {
      if (v[i].owner.expired()) v.erase(v.begin() + i);
      else i++;
    }
    it = v.empty() ? gWeights.erase(it) : std::next(it);
  }
}
}  // namespace

dnnl::memory weightsAs(const Tensor& w, const dnnl::memory::desc& want, dnnl::memory& plainScratch) {
  dnnl::memory::desc own = mdOf(w);
  if (own == want) {
    if (!plainScratch || !(plainScratch.get_desc() == own)) plainScratch = dnnl::memory(own, cpu().engine(), DNNL_MEMORY_NONE);
    plainScratch.set_data_handle(w.data());
    return plainScratch;
  }
  Storage* key = w.storage.get();
  auto& slots = gWeights[key];
  Slot* hit = nullptr;
  for (size_t i = 0; i < slots.size();) {
    if (slots[i].owner.lock() != w.storage) {  // a freed storage whose address was reused
      slots.erase(slots.begin() + i);
      continue;
    }
    if (slots[i].md == want) hit = &slots[i];
    i++;
  }
  if (!hit) {
    dropExpired();
    auto& fresh = gWeights[key];
    Slot slot{w.storage, want, ~(uint64_t)0, dnnl::memory(own, cpu().engine(), DNNL_MEMORY_NONE), dnnl::memory(want, cpu().engine()), {}};
    slot.toMem = dnnl::reorder(slot.plain, slot.mem);
    fresh.push_back(std::move(slot));
    hit = &fresh.back();
  }
  if (hit->version != w.storage->version) {
    hit->plain.set_data_handle(w.data());
    hit->toMem.execute(cpu().stream(), hit->plain, hit->mem);
    hit->version = w.storage->version;
  }
  return hit->mem;
}

}  // namespace vgg
