// Argument checks and the JS object of CUDA graphs (see binding.d.ts and core/capture.h): capture begins
// and ends on a device, a graph is launched as often as wanted and disposed once.
#include <memory>
#include "core/backend.h"
#include "core/capture.h"
#include "napi/args.h"

namespace vgg {

struct GraphWrap : Napi::ObjectWrap<GraphWrap> {
  std::shared_ptr<DeviceGraph> g;

  explicit GraphWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GraphWrap>(info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), "Graph: graphs are made by graphCaptureEnd(), not new Graph()");
    g = *info[0].As<Napi::External<std::shared_ptr<DeviceGraph>>>().Data();
  }
  Napi::Value Device_(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), g ? deviceName(g->device()) : "cuda"); }
  Napi::Value Nodes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), g ? (double)g->nodes() : 0.0); }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !g); }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    drop();
    return info.Env().Undefined();
  }
  void Finalize(Napi::Env) override { drop(); }
  // Waits for a replay in flight, then frees what only the graph held; while another capture runs
  // (no syncs allowed), when that capture ends.
  void drop() {
    if (g && activeCapture()) releaseAfterCapture(std::static_pointer_cast<void>(g));
    g.reset();
  }
};

static Napi::FunctionReference& graphClass(Napi::Env env) { return graphConstructor(env); }

static Backend& graphBackend(Args& a) {
  Device d = deviceArg(a, 0);
  try {
    return backendFor(d);
  } catch (const RangeErr& e) {
    a.rangeError(e.what());
  }
}

static Napi::Value graphCaptureBegin(const Napi::CallbackInfo& info) {
  Args a(info, "graphCaptureBegin", 1, 1);
  graphBackend(a).graphCaptureBegin();
  return info.Env().Undefined();
}

static Napi::Value graphCaptureEnd(const Napi::CallbackInfo& info) {
  Args a(info, "graphCaptureEnd", 1, 1);
  Backend& b = graphBackend(a);
  if (!activeCapture()) a.rangeError("no capture is running (call graphCaptureBegin first)");
  std::shared_ptr<DeviceGraph> g(b.graphCaptureEnd());
  Napi::External<std::shared_ptr<DeviceGraph>> ext = Napi::External<std::shared_ptr<DeviceGraph>>::New(info.Env(), &g);
  return graphClass(info.Env()).New({ext});
}

static Napi::Value graphCaptureAbort(const Napi::CallbackInfo& info) {
  Args a(info, "graphCaptureAbort", 1, 1);
  Device d = deviceArg(a, 0);
  if (Backend* b = d == Device::cpu ? &cpuBackend() : cudaBackend()) b->graphCaptureAbort();
  return info.Env().Undefined();
}

static Napi::Value graphCaptureId(const Napi::CallbackInfo& info) {
  Args a(info, "graphCaptureId", 0, 0);
  return Napi::Number::New(info.Env(), (double)captureId());
}

static Napi::Value graphLaunch(const Napi::CallbackInfo& info) {
  Args a(info, "graphLaunch", 1, 1);
  Napi::Value v = info[0];
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(graphClass(info.Env()).Value()))
    a.typeError(fmt("graph (argument 1) must be a Graph from graphCaptureEnd(), got %s", jsTypeName(v)));
  GraphWrap* w = GraphWrap::Unwrap(v.As<Napi::Object>());
  if (!w->g) a.typeError("graph (argument 1) was disposed");
  w->g->launch();
  return info.Env().Undefined();
}

void registerGraph(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = GraphWrap::DefineClass(env, "Graph", {
    GraphWrap::InstanceAccessor<&GraphWrap::Device_>("device"),
    GraphWrap::InstanceAccessor<&GraphWrap::Nodes>("nodes"),
    GraphWrap::InstanceAccessor<&GraphWrap::Disposed>("disposed"),
    GraphWrap::InstanceMethod<&GraphWrap::Dispose>("dispose"),
  });
  graphClass(env) = Napi::Persistent(cls);
  VGG_EXPORT(exports, "graphCaptureBegin", graphCaptureBegin);
  VGG_EXPORT(exports, "graphCaptureEnd", graphCaptureEnd);
  VGG_EXPORT(exports, "graphCaptureAbort", graphCaptureAbort);
  VGG_EXPORT(exports, "graphCaptureId", graphCaptureId);
  VGG_EXPORT(exports, "graphLaunch", graphLaunch);
}

}  // namespace vgg
