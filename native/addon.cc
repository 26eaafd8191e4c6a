// N-API binding: `Scanner` (one per JS scanner) whose scan() runs the core
// in Napi::AsyncWorker::Execute() on a libuv pool thread into plain C++
// buffers; JS values are made only in OnOK(), on the main thread.
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "fd_budget.h"
#include "lock.h"
#include "scanner.h"
#include "sock_diag.h"

namespace nrdot {
namespace {

class ScannerWrap;

class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Env env, ScannerWrap* wrap, Napi::Object self, ScanRequest req)
      : Napi::AsyncWorker(env, "nrdot:scan"),
        deferred_(Napi::Promise::Deferred::New(env)),
        wrap_(wrap),
        self_(Napi::Persistent(self)),
        req_(std::move(req)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  void Done();

  Napi::Promise::Deferred deferred_;
  ScannerWrap* wrap_;
  Napi::ObjectReference self_;  // keeps the scanner alive while it scans
  ScanRequest req_;
  ScanResult result_;
};

class ScannerWrap : public Napi::ObjectWrap<ScannerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Scanner",
                       {
                           InstanceMethod<&ScannerWrap::Scan>("scan"),
                           InstanceMethod<&ScannerWrap::Close>("close"),
                           InstanceAccessor<&ScannerWrap::IsProcfs>("isProcfs"),
                           InstanceAccessor<&ScannerWrap::KeptFds>("keptFds"),
                       });
  }

  explicit ScannerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ScannerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "Scanner(options): options object required").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value root = o.Get("procRoot");
    Napi::Value clk = o.Get("clkTck");
    Napi::Value page = o.Get("pageSize");
    Napi::Value max_kept = o.Get("maxKeptFds");
    if (!root.IsString() || !clk.IsNumber() || !page.IsNumber()) {
      Napi::TypeError::New(env, "Scanner(options): procRoot (string), clkTck and pageSize (numbers) required")
          .ThrowAsJavaScriptException();
      return;
    }
    int64_t cap = -1;
    if (max_kept.IsNumber()) cap = max_kept.As<Napi::Number>().Int64Value();
    core_ = std::make_unique<Scanner>(root.As<Napi::String>().Utf8Value(), clk.As<Napi::Number>().DoubleValue(),
                                      page.As<Napi::Number>().DoubleValue(), cap);
  }

  Scanner* core() { return core_.get(); }

  // Called on the main thread when a worker settles.
  void Settled() {
    busy_ = false;
    if (close_requested_) core_->Reset();
  }

 private:
  // bounds?: { maxProcesses, excludeNames, minCpuPercent, minRssBytes, minAgeSec, keep }
  // (src/sources/native/addon.d.ts). False (and a JS exception) on bad input.
  static bool ReadBounds(Napi::Env env, Napi::Value v, ScanBounds* b) {
    if (v.IsUndefined() || v.IsNull()) return true;
    if (!v.IsObject()) {
      Napi::TypeError::New(env, "scan(detail, bounds): bounds must be an object").ThrowAsJavaScriptException();
      return false;
    }
    Napi::Object o = v.As<Napi::Object>();
    b->active = true;
    auto num = [&](const char* key, double* dst) {
      Napi::Value x = o.Get(key);
      if (x.IsUndefined()) return true;
      if (!x.IsNumber() || !(x.As<Napi::Number>().DoubleValue() >= 0)) {
        Napi::TypeError::New(env, std::string("scan(detail, bounds): bounds.") + key + " must be a number >= 0")
            .ThrowAsJavaScriptException();
        return false;
      }
      *dst = x.As<Napi::Number>().DoubleValue();
      return true;
    };
    double max = 0;
    if (!num("maxProcesses", &max) || !num("minCpuPercent", &b->min_cpu_percent) ||
        !num("minRssBytes", &b->min_rss_bytes) || !num("minAgeSec", &b->min_age_sec))
      return false;
    b->max_processes = max >= 9.0e15 ? INT64_MAX : static_cast<int64_t>(max);
    Napi::Value names = o.Get("excludeNames");
    if (!names.IsUndefined()) {
      if (!names.IsArray()) {
        Napi::TypeError::New(env, "scan(detail, bounds): bounds.excludeNames must be an array of strings")
            .ThrowAsJavaScriptException();
        return false;
      }
      Napi::Array a = names.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value x = a.Get(i);
        if (!x.IsString()) {
          Napi::TypeError::New(env, "scan(detail, bounds): bounds.excludeNames must be an array of strings")
              .ThrowAsJavaScriptException();
          return false;
        }
        std::string p = x.As<Napi::String>().Utf8Value();
        // "name" is exact; "prefix*" matches names starting with prefix.
        if (!p.empty() && p.back() == '*') {
          p.pop_back();
          b->exclude_prefix.push_back(std::move(p));
        } else {
          b->exclude_exact.push_back(std::move(p));
        }
      }
    }
    Napi::Value keep = o.Get("keep");
    if (!keep.IsUndefined() && !keep.IsNull()) {
      if (!keep.IsTypedArray() || keep.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        Napi::TypeError::New(env, "scan(detail, bounds): bounds.keep must be an Int32Array of pids")
            .ThrowAsJavaScriptException();
        return false;
      }
      Napi::Int32Array k = keep.As<Napi::Int32Array>();
      b->keep.assign(k.Data(), k.Data() + k.ElementLength());
      std::sort(b->keep.begin(), b->keep.end());
      b->keep.erase(std::unique(b->keep.begin(), b->keep.end()), b->keep.end());
    }
    return true;
  }

  // reads?: { status, io, fds, cgroup } (booleans, each defaulting to true;
  // src/sources/native/addon.d.ts). False (and a JS exception) on bad input.
  static bool ReadReads(Napi::Env env, Napi::Value v, ScanRequest* req) {
    if (v.IsUndefined() || v.IsNull()) return true;
    if (!v.IsObject()) {
      Napi::TypeError::New(env, "scan(detail, bounds, reads): reads must be an object").ThrowAsJavaScriptException();
      return false;
    }
    Napi::Object o = v.As<Napi::Object>();
    auto flag = [&](const char* key, bool* dst) {
      Napi::Value x = o.Get(key);
      if (x.IsUndefined()) return true;
      if (!x.IsBoolean()) {
        Napi::TypeError::New(env, std::string("scan(detail, bounds, reads): reads.") + key + " must be a boolean")
            .ThrowAsJavaScriptException();
        return false;
      }
      *dst = x.As<Napi::Boolean>().Value();
      return true;
    };
    return flag("status", &req->files.status) && flag("io", &req->files.io) && flag("fds", &req->files.fds) &&
           flag("cgroup", &req->cgroup);
  }

  // scan(detail?: Int32Array | null, bounds?: object | null, reads?: object | null): Promise<RawScan>
  Napi::Value Scan(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (busy_) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Reject(Napi::Error::New(env, "nrdot native scanner: a scan is already running on this scanner").Value());
      return d.Promise();
    }
    ScanRequest req;
    if (info.Length() > 0 && info[0].IsTypedArray()) {
      Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
      if (ta.TypedArrayType() != napi_int32_array) {
        Napi::TypeError::New(env, "scan(detail): detail must be an Int32Array of pids").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      Napi::Int32Array pids = info[0].As<Napi::Int32Array>();
      req.detail_all = false;
      req.detail_pids.assign(pids.Data(), pids.Data() + pids.ElementLength());
    } else if (info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsNull()) {
      Napi::TypeError::New(env, "scan(detail): detail must be an Int32Array of pids").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() > 1 && !ReadBounds(env, info[1], &req.bounds)) return env.Undefined();
    if (info.Length() > 2 && !ReadReads(env, info[2], &req)) return env.Undefined();
    busy_ = true;
    close_requested_ = false;
    auto* w = new ScanWorker(env, this, Value(), std::move(req));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  // close(): release every kept fd now (or when the running scan ends).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy_)
      close_requested_ = true;
    else
      core_->Reset();
    return info.Env().Undefined();
  }

  Napi::Value IsProcfs(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), core_->is_procfs()); }
  Napi::Value KeptFds(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->kept_fds()); }

  std::unique_ptr<Scanner> core_;
  bool busy_ = false;
  bool close_requested_ = false;
};

void ScanWorker::Execute() {
  wrap_->core()->Scan(req_, &result_);
  if (result_.slab == nullptr) SetError("nrdot native scanner: out of memory");
}

void ScanWorker::Done() { wrap_->Settled(); }

Napi::Array Strings(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, v[i]));
  return a;
}

Napi::Value Latin1(Napi::Env env, bool present, const std::string& s) {
  if (!present) return env.Null();
  napi_value v;
  napi_create_string_latin1(env, s.data(), s.size(), &v);
  return Napi::Value(env, v);
}

void ScanWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  ScanResult& r = result_;
  size_t cap = r.capacity;
  size_t bytes = r.slab_bytes;
  Napi::ArrayBuffer ab =
      Napi::ArrayBuffer::New(env, r.ReleaseSlab(), bytes, [](Napi::Env, void* data) { free(data); });
  size_t off = 0;
  auto f64 = [&](const char* name, Napi::Object& o) {
    o.Set(name, Napi::Float64Array::New(env, cap, ab, off));
    off += cap * sizeof(double);
  };
  auto i32 = [&](const char* name, Napi::Object& o) {
    o.Set(name, Napi::Int32Array::New(env, cap, ab, off));
    off += cap * sizeof(int32_t);
  };
  auto u8 = [&](const char* name, Napi::Object& o) {
    o.Set(name, Napi::Uint8Array::New(env, cap, ab, off));
    off += cap;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", Napi::Number::New(env, static_cast<double>(r.count)));
  // Same order as ScanResult::Allocate.
  for (const char* n : {"startTicks", "utimeSec", "stimeSec", "iowaitSec", "rssBytes", "vsizeBytes", "readBytes",
                        "writeBytes", "minFaults", "majFaults", "volCtx", "involCtx"})
    f64(n, o);
  for (const char* n : {"pid", "ppid", "threads", "fds", "uid"}) i32(n, o);
  u8("state", o);
  u8("flags", o);

  Napi::Int32Array fresh = Napi::Int32Array::New(env, r.fresh_rows.size());
  if (!r.fresh_rows.empty()) memcpy(fresh.Data(), r.fresh_rows.data(), r.fresh_rows.size() * sizeof(int32_t));
  o.Set("freshRows", fresh);
  o.Set("freshName", Strings(env, r.fresh_name));
  o.Set("freshCmdline", Strings(env, r.fresh_cmdline));
  o.Set("freshExe", Strings(env, r.fresh_exe));
  o.Set("freshCgroup", Strings(env, r.fresh_cgroup));
  o.Set("vanished", Napi::Number::New(env, r.vanished));
  o.Set("denied", Napi::Number::New(env, r.denied));
  o.Set("malformed", Napi::Number::New(env, r.malformed));
  o.Set("cgroupUnreadable", Napi::Number::New(env, r.cgroup_unreadable));
  if (r.bounded) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("max_processes", Napi::Number::New(env, r.excluded.max_processes));
    x.Set("name", Napi::Number::New(env, r.excluded.name));
    x.Set("cpu", Napi::Number::New(env, r.excluded.cpu));
    x.Set("rss", Napi::Number::New(env, r.excluded.rss));
    x.Set("age", Napi::Number::New(env, r.excluded.age));
    o.Set("excluded", x);
  } else {
    o.Set("excluded", env.Null());
  }
  o.Set("hostStat", Latin1(env, r.has_host_stat, r.host_stat));
  o.Set("uptime", Latin1(env, r.has_uptime, r.uptime));
  o.Set("meminfo", Latin1(env, r.has_meminfo, r.meminfo));
  o.Set("listError", r.list_errno == 0 ? env.Null() : Napi::String::New(env, strerrorname_np(r.list_errno)));
  o.Set("listErrorMessage", r.list_errno == 0 ? env.Null() : Napi::String::New(env, strerror(r.list_errno)));
  o.Set("scannedAtMs", Napi::Number::New(env, r.scanned_at_ms));
  o.Set("keptFds", Napi::Number::New(env, r.kept_fds));
  o.Set("opened", Napi::Number::New(env, r.opened));
  o.Set("reopened", Napi::Number::New(env, r.reopened));
  o.Set("detailRows", Napi::Number::New(env, r.detail_rows));
  o.Set("scanNs", Napi::Number::New(env, r.scan_ns));
  Done();
  deferred_.Resolve(o);
}

void ScanWorker::OnError(const Napi::Error& e) {
  Done();
  deferred_.Reject(e.Value());
}

Napi::Value Limits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FdLimits l = CurrentFdLimits();
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](int64_t v) { return Napi::Number::New(env, v == INT64_MAX ? -1.0 : static_cast<double>(v)); };
  o.Set("soft", num(l.soft));
  o.Set("hard", num(l.hard));
  o.Set("budget", num(l.budget));
  o.Set("kept", num(l.kept));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitFdBudget();
  exports.Set("Scanner", ScannerWrap::Define(env));
  exports.Set("limits", Napi::Function::New<Limits>(env, "limits"));
  exports.Set("listeningSockets", Napi::Function::New<ListeningSockets>(env, "listeningSockets"));
  // optional in addon.d.ts: older builds without it fall back to a pid file (src/util/lock.ts)
  exports.Set("flock", Napi::Function::New<Flock>(env, "flock"));
  exports.Set("abiVersion", Napi::Number::New(env, 3));
  return exports;
}

}  // namespace
}  // namespace nrdot

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return nrdot::Init(env, exports); }

NODE_API_MODULE(nrdot_native, InitModule)
