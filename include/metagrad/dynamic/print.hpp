// metagrad/dynamic/print.hpp — operator<< and mg::repr: PyTorch's Python repr
// of a tensor, character for character (torch/_tensor_str.py with default
// print options: precision 4, threshold 1000, edgeitems 3, linewidth 80; as
// printed with torch.set_default_dtype(torch.float64)).
#pragma once
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include "factories.hpp"

namespace metagrad {
namespace detail {

constexpr int kPrecision = 4, kThreshold = 1000, kEdgeItems = 3, kLineWidth = 80;

inline std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// Chooses integer / fixed / scientific mode and the column width from the
/// (summarised) values, as torch's _Formatter does.
struct Formatter {
  bool int_mode = true, sci_mode = false;
  std::size_t max_width = 1;

  explicit Formatter(const std::vector<double>& values) {
    std::vector<double> nz;
    for (double v : values)
      if (std::isfinite(v) && v != 0) nz.push_back(v);
    if (nz.empty()) return;
    double mn = std::abs(nz[0]), mx = mn;
    for (double v : nz) {
      mn = std::min(mn, std::abs(v));
      mx = std::max(mx, std::abs(v));
      if (v != std::ceil(v)) int_mode = false;
    }
    if (int_mode) {
      if (mx / mn > 1000.0 || mx > 1.0e8) {
        sci_mode = true;
        for (double v : nz) max_width = std::max(max_width, fmt("%.4e", v).size());
      } else {
        for (double v : nz) max_width = std::max(max_width, fmt("%.0f", v).size() + 1);
      }
    } else if (mx / mn > 1000.0 || mx > 1.0e8 || mn < 1.0e-4) {
      sci_mode = true;
      for (double v : nz) max_width = std::max(max_width, fmt("%.4e", v).size());
    } else {
      for (double v : nz) max_width = std::max(max_width, fmt("%.4f", v).size());
    }
  }
  std::string format(double v) const {
    std::string r;
    if (std::isnan(v)) r = "nan";  // (Python prints every NaN so, whatever its sign bit)
    else if (sci_mode) r = fmt("%.4e", v);
    else if (int_mode) {
      r = fmt("%.0f", v);
      if (std::isfinite(v)) r += '.';
    } else r = fmt("%.4f", v);
    if (r.size() < max_width) r.insert(0, max_width - r.size(), ' ');
    return r;
  }
};

/// Booleans (`True`/`False`) and integers print as text of one width, right
/// aligned (torch's _Formatter for non-floating dtypes). They are read as
/// integers, not doubles: an int64 beyond 2^53 prints every digit.
struct ExactFormatter {
  bool boolean = false;
  std::size_t max_width = 1;
  ExactFormatter(const std::vector<long long>& values, bool b) : boolean(b) {
    for (long long v : values) max_width = std::max(max_width, text(v).size());
  }
  std::string text(long long v) const {
    if (boolean) return v != 0 ? "True" : "False";
    return std::to_string(v);
  }
  std::string format(long long v) const {
    std::string r = text(v);
    if (r.size() < max_width) r.insert(0, max_width - r.size(), ' ');
    return r;
  }
};

/// Strided read access to a tensor's elements without any autograd.
template <class T>
struct RawView {
  const T* data;
  Sizes sizes, strides;
  RawView sub(std::int64_t i) const {
    RawView r{data + i * strides[0], sizes, strides};
    r.sizes.erase(0);
    r.strides.erase(0);
    return r;
  }
  /// The element as the formatter reads it (integers exactly).
  using Value = std::conditional_t<std::is_floating_point_v<T>, double, long long>;
  Value scalar() const { return static_cast<Value>(*data); }
};

template <class T>
void summarized_values(const RawView<T>& v, bool summarize, std::vector<typename RawView<T>::Value>& out) {
  if (v.sizes.size() == 0) { out.push_back(v.scalar()); return; }
  const std::int64_t n = v.sizes[0];
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) i = n - kEdgeItems;
    summarized_values(v.sub(i), summarize, out);
  }
}

template <class T, class F>
std::string tensor_str(const RawView<T>& v, int indent, bool summarize, const F& f) {
  const int dim = v.sizes.size();
  if (dim == 0) return f.format(v.scalar());
  const std::int64_t n = v.sizes[0];
  if (dim == 1) {
    const std::size_t elem = f.max_width + 2;
    const std::size_t per_line =
        std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(double(kLineWidth - indent) / double(elem))));
    std::vector<std::string> data;
    for (std::int64_t i = 0; i < n; ++i) {
      if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
        data.push_back(" ...");
        i = n - kEdgeItems;
      }
      data.push_back(f.format(v.sub(i).scalar()));
    }
    std::string s = "[";
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (i) s += (i % per_line == 0) ? ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' ') : ", ";
      s += data[i];
    }
    return s + "]";
  }
  std::vector<std::string> slices;
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      slices.push_back("...");
      i = n - kEdgeItems;
    }
    slices.push_back(tensor_str(v.sub(i), indent + 1, summarize, f));
  }
  const std::string sep = "," + std::string(static_cast<std::size_t>(dim - 1), '\n') +
                          std::string(static_cast<std::size_t>(indent + 1), ' ');
  std::string s = "[";
  for (std::size_t i = 0; i < slices.size(); ++i) s += (i ? sep : "") + slices[i];
  return s + "]";
}

}  // namespace detail

/// PyTorch's repr of the tensor; "None" for an undefined tensor.
template <class T>
std::string repr(const BasicTensor<T>& t) {
  if (!t.defined()) return "None";
  const std::string prefix = "tensor(";
  const int indent = static_cast<int>(prefix.size());
  std::vector<std::string> suffixes;
  std::string body;
  const auto& m = t.impl();
  if (t.numel() == 0) {
    if (t.dim() != 1) {
      std::ostringstream os;
      os << "size=(";
      for (int i = 0; i < t.dim(); ++i) os << (i ? ", " : "") << t.sizes()[i];
      os << (t.dim() == 1 ? ",)" : ")");
      suffixes.push_back(os.str());
    }
    // (no element shows an empty tensor's type: torch names every dtype but
    // the default one, int64 and bool included)
    if (std::is_same_v<T, float>) suffixes.push_back("dtype=torch.float32");
    if (std::is_same_v<T, std::int64_t>) suffixes.push_back("dtype=torch.int64");
    if (std::is_same_v<T, bool>) suffixes.push_back("dtype=torch.bool");
    body = "[]";
  } else {
    if (std::is_same_v<T, float>) suffixes.push_back("dtype=torch.float32");
    detail::RawView<T> v{m.data(), m.sizes, m.strides};
    const bool summarize = t.numel() > detail::kThreshold;
    std::vector<typename detail::RawView<T>::Value> vals;
    detail::summarized_values(v, summarize, vals);
    if constexpr (std::is_floating_point_v<T>)
      body = detail::tensor_str(v, indent, summarize, detail::Formatter(vals));
    else
      body = detail::tensor_str(v, indent, summarize, detail::ExactFormatter(vals, std::is_same_v<T, bool>));
  }
  if (auto fn = t.grad_fn()) suffixes.push_back("grad_fn=<" + fn->name() + ">");
  else if (t.requires_grad()) suffixes.push_back("requires_grad=True");
  std::string s = prefix + body;
  const auto nl = s.rfind('\n');
  // (torch's _add_suffixes: len(s) - s.rfind("\n") + 1, where rfind gives -1
  // when there is no newline: the last line's length plus 2 either way)
  std::size_t last = nl == std::string::npos ? s.size() + 2 : s.size() - nl + 1;
  for (const auto& suf : suffixes) {
    if (last + suf.size() + 2 > static_cast<std::size_t>(detail::kLineWidth)) {
      s += ",\n" + std::string(static_cast<std::size_t>(indent), ' ') + suf;
      last = static_cast<std::size_t>(indent) + suf.size();
    } else {
      s += ", " + suf;
      last += suf.size() + 2;
    }
  }
  return s + ")";
}

template <class T>
std::ostream& operator<<(std::ostream& os, const BasicTensor<T>& t) { return os << repr(t); }

/// `<AddBackward0 object at 0x...>`, as Python prints a grad_fn; `None` for null.
template <class T>
std::ostream& operator<<(std::ostream& os, const std::shared_ptr<BasicNode<T>>& n) {
  if (!n) return os << "None";
  return os << '<' << n->name() << " object at " << static_cast<const void*>(n.get()) << '>';
}

}  // namespace metagrad
