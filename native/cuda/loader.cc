// dlopen of cuDNN 9 and cuBLAS 13 (or 12). Many GPU users have these only as the pip wheels that came
// with PyTorch (site-packages/nvidia/<pkg>/lib), which are on no loader path: we search those too.
#include "cuda/loader.h"
#include <dirent.h>
#include <algorithm>
#include <dlfcn.h>
#include <sys/stat.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>

#ifdef VGG_CUDA_EMU
namespace emu {
void fillCudnn(vgg::cu::Cudnn& t);
void fillCublas(vgg::cu::Cublas& t);
}  // namespace emu
#endif

namespace vgg {

static const char* kLoaderPath = "<dynamic loader path>";

static std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
static bool isDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
static bool isFile(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
static void addUnique(std::vector<std::string>& v, const std::string& s) {
  if (s.empty()) return;
  for (auto& x : v) if (x == s) return;
  v.push_back(s);
}
// <root>/<each subfolder>/lib: the layout of the nvidia wheels (nvidia/cudnn/lib, nvidia/cublas/lib, nvidia/cu13/lib).
static void addWheelLibs(std::vector<std::string>& v, const std::string& root) {
  DIR* d = opendir(root.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (auto& n : names)
    if (isDir(root + "/" + n + "/lib")) addUnique(v, root + "/" + n + "/lib");
}

// The folders of Python's `nvidia` namespace package. Running Python costs ~100 ms, so the answer is
// cached in ~/.cache/vgg-cifar/nvidia-wheels.txt, keyed on PATH and VIRTUAL_ENV; a cached empty answer
// is trusted for an hour. VGG_CIFAR_NO_PYTHON=1 skips this step.
static std::vector<std::string> pythonNvidiaDirs() {
  static std::mutex mu;
  static bool done = false;
  static std::vector<std::string> dirs;
  std::lock_guard<std::mutex> lock(mu);
  if (done) return dirs;
  done = true;
  if (env("VGG_CIFAR_NO_PYTHON") == "1") return dirs;
  std::string key = "PATH=" + env("PATH") + " VIRTUAL_ENV=" + env("VIRTUAL_ENV");
  std::string cacheDir = env("XDG_CACHE_HOME");
  if (cacheDir.empty() && !env("HOME").empty()) cacheDir = env("HOME") + "/.cache";
  std::string cacheFile = cacheDir.empty() ? "" : cacheDir + "/vgg-cifar/nvidia-wheels.txt";
  if (!cacheFile.empty()) {
    std::ifstream in(cacheFile);
    std::string line, stamp;
    if (std::getline(in, line) && line == key && std::getline(in, stamp)) {
      std::vector<std::string> cached;
      bool ok = true;
      while (std::getline(in, line)) {
        if (!isDir(line)) ok = false;
        cached.push_back(line);
      }
      bool fresh = std::time(nullptr) - std::atoll(stamp.c_str()) < 3600;
      if (ok && (!cached.empty() || fresh)) return dirs = cached;
    }
  }
  const char* cmd =
      "timeout 20 python3 -c \"import nvidia; print('\\n'.join(list(nvidia.__path__)))\" 2>/dev/null";
  if (FILE* p = popen(cmd, "r")) {
    char buf[4096];
    while (fgets(buf, sizeof buf, p)) {
      std::string s(buf);
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      if (isDir(s)) addUnique(dirs, s);
    }
    pclose(p);
  }
  if (!cacheFile.empty()) {
    mkdir(cacheDir.c_str(), 0755);
    mkdir((cacheDir + "/vgg-cifar").c_str(), 0755);
    std::ofstream out(cacheFile);
    out << key << "\n" << (long long)std::time(nullptr) << "\n";
    for (auto& d : dirs) out << d << "\n";
  }
  return dirs;
}

std::vector<std::string> cudaLibrarySearchDirs(const char* overrideVar) {
  std::vector<std::string> v;
  std::string ov = env(overrideVar);
  if (!ov.empty()) addUnique(v, isFile(ov) ? ov.substr(0, ov.rfind('/') == std::string::npos ? 0 : ov.rfind('/')) : ov);
  v.push_back(kLoaderPath);
  for (const char* var : {"CUDA_HOME", "CUDA_PATH"}) {
    std::string root = env(var);
    if (root.empty()) continue;
    for (const char* sub : {"/lib64", "/lib", "/targets/x86_64-linux/lib"}) addUnique(v, root + sub);
  }
  std::string wheels = env("NVIDIA_WHEELS_DIR");
  if (!wheels.empty()) {
    addWheelLibs(v, wheels);
    addWheelLibs(v, wheels + "/nvidia");
  }
  addUnique(v, "/usr/local/cuda/lib64");
  return v;
}

// Tries each folder in order; Python is asked for its nvidia wheels only when nothing else has the library.
template <class F>
static void* searchFolders(LibraryInfo& info, const char* overrideVar, F&& tryDir) {
  info.searched = cudaLibrarySearchDirs(overrideVar);
  for (auto& dir : info.searched)
    if (void* h = tryDir(dir)) return h;
  std::vector<std::string> wheels;
  for (auto& d : pythonNvidiaDirs()) addWheelLibs(wheels, d);
  for (auto& dir : wheels) {
    if (std::find(info.searched.begin(), info.searched.end(), dir) != info.searched.end()) continue;
    info.searched.push_back(dir);
    if (void* h = tryDir(dir)) return h;
  }
  return nullptr;
}

// dlopen with RTLD_GLOBAL: cuDNN's sub-libraries and cuBLAS's cuBLASLt then resolve against the copies
// we loaded (glibc matches an already-loaded soname), not some other copy on the loader path.
static void* openIn(const std::string& dir, const std::string& name, std::string* err) {
  std::string path = dir == kLoaderPath ? name : dir + "/" + name;
  if (dir != kLoaderPath && !isFile(path)) return nullptr;
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!h) {
    const char* e = dlerror();
    if (dir != kLoaderPath || err->empty()) *err = e ? e : "dlopen failed";
  }
  return h;
}

static std::string loadedPath(void* h, void* sym, const std::string& fallback) {
  Dl_info info;
  if (sym && dladdr(sym, &info) && info.dli_fname) return info.dli_fname;
  return fallback;
}

template <class T>
static bool resolve(void* h, const char* name, T* out, bool required, std::string* missing) {
  *out = reinterpret_cast<T>(dlsym(h, name));
  if (!*out && required) {
    if (!missing->empty()) *missing += ", ";
    *missing += name;
  }
  return *out != nullptr;
}

// Called by bf16 ops only: a cuBLAS without it still runs fp32 (linear.cc names what is missing when
// a bf16 op needs it), and test/native's stand-in libraries need not export it.
static bool bf16Only(const char* name) { return std::strcmp(name, "cublasGemmEx") == 0; }

[[maybe_unused]] static void loadCublas(CudaLibraries& L) {  // unused in the emulator build
  LibraryInfo& info = L.cublasInfo;
  std::string ov = env("VGG_CIFAR_CUBLAS");
  std::string err;
  void* h = searchFolders(info, "VGG_CIFAR_CUBLAS", [&](const std::string& dir) -> void* {
    for (const char* major : {"13", "12"}) {
      std::string blas = std::string("libcublas.so.") + major;
      if (isFile(ov) && dir + "/" + ov.substr(ov.rfind('/') + 1) == ov) blas = ov.substr(ov.rfind('/') + 1);
      std::string lt = blas.rfind("libcublas.so", 0) == 0 ? "libcublasLt" + blas.substr(9) : std::string("libcublasLt.so.") + major;
      if (dir != kLoaderPath && !isFile(dir + "/" + blas)) continue;
      // cuBLAS needs cuBLASLt from its own folder (cuDNN 9 needs it too); the loader path finds it alone.
      if (dir != kLoaderPath) openIn(dir, lt, &err);
      if (void* h = openIn(dir, blas, &err)) return h;
    }
    return nullptr;
  });
  if (!h) {
    info.error = "cuBLAS not found (libcublas.so.13 or .so.12)" + (err.empty() ? "" : ": " + err);
    return;
  }
  std::string missing;
#define VGG_RESOLVE(name, ret, params) resolve(h, #name, &L.cublas.name, !bf16Only(#name), &missing);
  VGG_CUBLAS_FUNCTIONS(VGG_RESOLVE)
#undef VGG_RESOLVE
  info.path = loadedPath(h, (void*)L.cublas.cublasCreate_v2, "libcublas");
  if (!missing.empty()) {
    info.error = "cuBLAS at " + info.path + " lacks " + missing;
    return;
  }
  int v[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) L.cublas.cublasGetProperty((libraryPropertyType)i, &v[i]);
  info.version = std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]);
  if (v[0] < 12) {
    info.error = "cuBLAS " + info.version + " at " + info.path + " is too old (need 12 or 13)";
    return;
  }
  info.loaded = true;
}

[[maybe_unused]] static void loadCudnn(CudaLibraries& L) {
  LibraryInfo& info = L.cudnnInfo;
  std::string ov = env("VGG_CIFAR_CUDNN");
  std::string err;
  void* h = searchFolders(info, "VGG_CIFAR_CUDNN", [&](const std::string& dir) -> void* {
    std::string name = "libcudnn.so.9";
    if (isFile(ov) && dir + "/" + ov.substr(ov.rfind('/') + 1) == ov) name = ov.substr(ov.rfind('/') + 1);
    if (dir != kLoaderPath && !isFile(dir + "/" + name)) return nullptr;
    // cuDNN 9 is a shim that loads its sub-libraries by soname; load them from the same folder first,
    // so a second cuDNN elsewhere cannot be mixed in (CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH).
    if (dir != kLoaderPath)
      for (const char* sub : {"libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
                              "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9"}) {
        std::string ignored;
        openIn(dir, sub, &ignored);
      }
    return openIn(dir, name, &err);
  });
  if (!h) {
    info.error = "cuDNN not found (libcudnn.so.9)" + (err.empty() ? "" : ": " + err);
    return;
  }
  std::string missing;
  // Optional: what only a candidate path needs (cudnnExMissing() says which are absent; the path then
  // says so and runs without them) or what only improves error messages.
  const std::string optional = " cudnnGetLastErrorString cudnnOpsVersionCheck cudnnCnnVersionCheck " VGG_CUDNN_EX_FUNCTIONS " " VGG_CUDNN_GRAPH_FUNCTIONS " ";
#define VGG_RESOLVE(name, ret, params) resolve(h, #name, &L.cudnn.name, optional.find(" " #name " ") == std::string::npos, &missing);
  VGG_CUDNN_FUNCTIONS(VGG_RESOLVE)
#undef VGG_RESOLVE
  info.path = loadedPath(h, (void*)L.cudnn.cudnnCreate, "libcudnn");
  if (!L.cudnn.cudnnGetVersion) {
    info.error = "cuDNN at " + info.path + " lacks cudnnGetVersion";
    return;
  }
  size_t v = L.cudnn.cudnnGetVersion();
  // cuDNN 9 numbers versions major*10000 + minor*100 + patch (cuDNN 8: major*1000 + minor*100 + patch).
  if (v >= 90000) info.version = std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
  else info.version = std::to_string(v / 1000) + "." + std::to_string(v / 100 % 10) + "." + std::to_string(v % 100);
  if (v < 90000) {
    info.error = "cuDNN " + info.version + " at " + info.path + " is too old (need 9.0 or newer)";
    return;
  }
  if (!missing.empty()) {
    info.error = "cuDNN " + info.version + " at " + info.path + " lacks " + missing;
    return;
  }
  for (auto check : {L.cudnn.cudnnOpsVersionCheck, L.cudnn.cudnnCnnVersionCheck}) {
    if (check && check() != cu::CUDNN_STATUS_SUCCESS) {
      info.error = "cuDNN " + info.version + " at " + info.path + ": its ops/cnn sub-libraries failed to load or mismatch";
      return;
    }
  }
  info.loaded = true;
}

// Which of the space-separated optional functions in `list` the loaded cuDNN lacks (empty when not loaded).
static std::string cudnnMissingOf(const std::string& list) {
  const CudaLibraries& L = cudaLibraries();
  if (!L.cudnnInfo.loaded) return "";
  const std::string names = " " + list + " ";
  std::string missing;
#define VGG_MISSING_OF(name, ret, params) \
  if (!L.cudnn.name && names.find(" " #name " ") != std::string::npos) missing += (missing.empty() ? "" : " ") + std::string(#name);
  VGG_CUDNN_FUNCTIONS(VGG_MISSING_OF)
#undef VGG_MISSING_OF
  return missing;
}

std::string cudnnExMissing() { return cudnnMissingOf(VGG_CUDNN_EX_FUNCTIONS); }
std::string cudnnGraphMissing() { return cudnnMissingOf(VGG_CUDNN_GRAPH_FUNCTIONS); }

#ifdef VGG_CUDA_EMU
// The CUDA emulator's build (native/emu) links stand-ins that compute with plain loops on the CPU.
static void loadEmulated(CudaLibraries& L) {
  emu::fillCublas(L.cublas);
  emu::fillCudnn(L.cudnn);
  L.cublasInfo = LibraryInfo{true, "emulated cuBLAS (native/emu/cublas.cc)", "13.1.0", "", {}};
  L.cudnnInfo = LibraryInfo{true, "emulated cuDNN (native/emu/cudnn.cc)", "9.19.0", "", {}};
}
#endif

const CudaLibraries& cudaLibraries() {
  static CudaLibraries* libs = [] {
    auto* L = new CudaLibraries();  // never freed: handles and function pointers live for the process
#ifdef VGG_CUDA_EMU
    loadEmulated(*L);
#else
    loadCublas(*L);                 // first: cuDNN 9 needs cuBLASLt
    loadCudnn(*L);
#endif
    return L;
  }();
  return *libs;
}

}  // namespace vgg
