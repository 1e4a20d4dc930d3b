// bench/loadgen/asio_impl.cpp — the one translation unit that compiles Asio
// and Beast for the load generator (separate compilation, as in src/net).
// Owns: nothing but those definitions. Must never: hold load-generator logic.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
