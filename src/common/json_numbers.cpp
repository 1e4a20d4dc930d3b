// json_numbers — see json_numbers.hpp.
#include "src/common/json_numbers.hpp"

#include <boost/json.hpp>

#include <cmath>

namespace switchboard {

bool finite_numbers(const boost::json::value& value) {
  // Depth is bounded by the parser's max_depth; recursion is fine.
  switch (value.kind()) {
  case boost::json::kind::double_:
    return std::isfinite(value.get_double());
  case boost::json::kind::array:
    for (auto& item : value.get_array())
      if (!finite_numbers(item))
        return false;
    return true;
  case boost::json::kind::object:
    for (auto& [key, item] : value.get_object())
      if (!finite_numbers(item))
        return false;
    return true;
  default:
    return true;
  }
}

} // namespace switchboard
