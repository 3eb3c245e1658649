// Exceptions thrown by the native code; native/napi/ maps them to JS errors. Backends never print or exit.
#pragma once
#include <stdexcept>
#include <string>

namespace vgg {

// Formats like printf into a std::string (at most 1,023 characters): error messages and reports.
std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));

// A caller's mistake in the type of an argument -> TypeError.
struct TypeErr : std::runtime_error { using std::runtime_error::runtime_error; };
// A caller's mistake in a value, shape or size -> RangeError.
struct RangeErr : std::runtime_error { using std::runtime_error::runtime_error; };
// "<op>: <what>[<i>] = <value> is out of range [0, <n>)": a label or index the caller passed.
inline std::string outOfRange(const std::string& op, const char* what, long long i, long long value, long long n) {
  return op + ": " + what + "[" + std::to_string(i) + "] = " + std::to_string(value) + " is out of range [0, " + std::to_string(n) + ")";
}

// A failure inside a backend library (oneDNN, CUDA, cuDNN, cuBLAS) -> Error with .op and .call.
struct BackendErr : std::runtime_error {
  std::string op, call;
  BackendErr(std::string op_, std::string call_, const std::string& msg)
      : std::runtime_error(op_ + ": " + call_ + " failed: " + msg), op(std::move(op_)), call(std::move(call_)) {}
};

}  // namespace vgg
