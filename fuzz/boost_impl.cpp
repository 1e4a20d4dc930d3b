// boost_impl — the compiled parts of Boost.JSON and Boost.URL for the fuzz
// targets (the node gets them from src/net/asio_impl.cpp, which the fuzzers
// do not link). Nothing else belongs here.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
