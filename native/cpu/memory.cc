// Allocation, host transfers, layout conversion (reorders) and the backend's status.
#include <malloc.h>
#include <omp.h>
#include <cstdlib>
#include <cstring>
#include "core/elementwise.h"
#include "cpu/conv_cache.h"

namespace vgg {

CpuBackend::CpuBackend() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
  // Tensor buffers are large and long-lived: serve them with mmap so a freed one goes back to the OS.
  // glibc's dynamic threshold otherwise rises after the first free and freed megabytes can pile up
  // in fragmented arenas (seen as RSS growing by 1 MB per create/dispose cycle).
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
}

CpuBackend& cpu() {
  static CpuBackend* b = new CpuBackend();  // never destroyed: tensors may outlive static destructors
  return *b;
}
Backend& cpuBackend() { return cpu(); }

void setCpuThreads(int n) { omp_set_num_threads(n); }
int getCpuThreads() { return omp_get_max_threads(); }

static const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    default: return "other";
  }
}

BackendStatus CpuBackend::status() {
  BackendStatus s;
  s.compiled = s.available = true;
  const dnnl_version_t* v = dnnl_version();
  std::string ver = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  std::string isa = isaName(dnnl::get_effective_cpu_isa());
  s.description = "oneDNN " + ver + " (" + isa + "), " + std::to_string(omp_get_max_threads()) + " threads";
  s.details["onednn"] = ver;
  s.details["onednnHash"] = v->hash ? v->hash : "";
  s.details["isa"] = isa;
  s.details["threads"] = std::to_string(omp_get_max_threads());
  s.details["cores"] = std::to_string(omp_get_num_procs());
  s.details["convolution"] = convAlgorithmInfo();
  // oneDNN 2.6 has bf16 kernels from AVX-512 up (native from AVX512-BF16, tiles with AMX); below
  // AVX-512 it would fall back to reference loops, so bf16 is refused there. Whether bf16 beats fp32
  // is not a property of the ISA's name (with AVX512-BF16 alone it is 1.35x faster on a Zen 5 EPYC and
  // 2x slower on a capped AMX Xeon): lib/bf16-speed.ts measures it.
  const dnnl::cpu_isa eff = dnnl::get_effective_cpu_isa();
  s.details["bf16"] = amxKernels() ? "AMX"
                      : eff == dnnl::cpu_isa::avx512_core_bf16 ? "AVX512-BF16"
                      : (eff == dnnl::cpu_isa::avx512_core || eff == dnnl::cpu_isa::avx512_core_vnni) ? "AVX-512 (emulated bf16)"
                      : "none";
  return s;
}

void* CpuBackend::allocate(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw RangeErr("cannot allocate " + std::to_string(bytes) + " bytes on the cpu");
  live_ += bytes;
  return p;
}

void CpuBackend::release(void* ptr, size_t bytes) {
  std::free(ptr);
  live_ -= bytes;
}

Layout CpuBackend::preferredLayout(const std::vector<int64_t>& shape, DType dtype) const {
  // fp32: the channel-blocked layout that oneDNN's convolutions read and write natively on this ISA,
  // 16 channels per block with AVX-512, 8 with AVX2. bf16: NHWC, the layout of oneDNN's AMX and
  // AVX512-BF16 convolution kernels in all three directions.
  if (shape.size() != 4) return Layout::plain;
  if (dtype == DType::bf16) return Layout::nhwc;
  static const bool avx512 = dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core &&
                             dnnl::get_effective_cpu_isa() != dnnl::cpu_isa::avx2_vnni;
  if (avx512 && shape[1] % 16 == 0) return Layout::nChw16c;
  if (shape[1] % 8 == 0) return Layout::nChw8c;
  return Layout::plain;
}

static dnnl::memory::dims dimsOf(const Tensor& t) { return dnnl::memory::dims(t.shape.begin(), t.shape.end()); }

static dnnl::memory::data_type dnnlType(DType t) {
  switch (t) {
    case DType::f32: return dnnl::memory::data_type::f32;
    case DType::u8: return dnnl::memory::data_type::u8;
    case DType::i32: return dnnl::memory::data_type::s32;
    case DType::bf16: return dnnl::memory::data_type::bf16;
    case DType::f16: return dnnl::memory::data_type::f16;
  }
  return dnnl::memory::data_type::undef;
}

dnnl::memory::desc mdOf(const Tensor& t) {
  using tag = dnnl::memory::format_tag;
  auto dims = dimsOf(t);
  auto dt = dnnlType(t.dtype);
  if (t.layout == Layout::nChw8c) return dnnl::memory::desc(dims, dt, tag::nChw8c);
  if (t.layout == Layout::nChw16c) return dnnl::memory::desc(dims, dt, tag::nChw16c);
  if (t.layout == Layout::nhwc) return dnnl::memory::desc(dims, dt, tag::nhwc);
  switch (dims.size()) {
    case 0: return dnnl::memory::desc({1}, dt, tag::a);
    case 1: return dnnl::memory::desc(dims, dt, tag::a);
    case 2: return dnnl::memory::desc(dims, dt, tag::ab);
    case 3: return dnnl::memory::desc(dims, dt, tag::abc);
    case 4: return dnnl::memory::desc(dims, dt, tag::abcd);
    case 5: return dnnl::memory::desc(dims, dt, tag::abcde);
    default: {
      dnnl::memory::dims strides(dims.size());
      int64_t s = 1;
      for (size_t i = dims.size(); i-- > 0;) { strides[i] = s; s *= dims[i]; }
      return dnnl::memory::desc(dims, dt, strides);
    }
  }
}

dnnl::memory memOf(const Tensor& t, const dnnl::memory::desc& md) { return dnnl::memory(md, cpu().engine(), t.data()); }
dnnl::memory memOf(const Tensor& t) { return memOf(t, mdOf(t)); }

static void reorder(const char* op, const dnnl::memory& from, const dnnl::memory& to) {
  dnnlCall(op, "reorder", [&] {
    dnnl::reorder(from, to).execute(cpu().stream(), const_cast<dnnl::memory&>(from), const_cast<dnnl::memory&>(to));
    cpu().stream().wait();
  });
}

void CpuBackend::upload(const Tensor& dst, const void* host) {
  if (dst.layout == Layout::plain) {
    std::memcpy(dst.data(), host, (size_t)dst.numel() * dtypeSize(dst.dtype));
    return;
  }
  Tensor plain = dst;
  plain.layout = Layout::plain;
  dnnl::memory src(mdOf(plain), engine_, const_cast<void*>(host));
  reorder("write", src, memOf(dst));
}

void CpuBackend::download(const Tensor& src, void* host) {
  if (src.layout == Layout::plain) {
    std::memcpy(host, src.data(), (size_t)src.numel() * dtypeSize(src.dtype));
    return;
  }
  Tensor plain = src;
  plain.layout = Layout::plain;
  dnnl::memory dst(mdOf(plain), engine_, host);
  reorder("toArray", memOf(src), dst);
}

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  if (src.layout == dst.layout) {
    std::memcpy(dst.data(), src.data(), src.bytes());
    return;
  }
  reorder("copy", memOf(src), memOf(dst));
}

void CpuBackend::fill(const Tensor& t, float value) {
  int64_t n = physicalNumel(t.shape, t.layout);
  switch (t.dtype) {
    case DType::f32: {
      float* p = t.as<float>();
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; i++) p[i] = value;
      break;
    }
    case DType::i32: {
      int32_t* p = t.as<int32_t>();
      for (int64_t i = 0; i < n; i++) p[i] = (int32_t)value;
      break;
    }
    case DType::u8: std::memset(t.data(), (int)(uint8_t)value, (size_t)n); break;
    case DType::bf16: {
      const uint16_t v = floatToBf16(value);
      uint16_t* p = t.as<uint16_t>();
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; i++) p[i] = v;
      break;
    }
    default: throw RangeErr(std::string("fill: not supported for ") + dtypeName(t.dtype) + " on the cpu");
  }
}

}  // namespace vgg
