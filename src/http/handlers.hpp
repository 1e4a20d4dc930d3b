// handlers — every endpoint handler, declared once; routes.cpp maps them to
// paths. One .cpp per area of the contract defines them.
#pragma once

#include "src/http/router.hpp"

namespace switchboard::http {

// books_handlers.cpp
void get_book(route_call& call);

// ops_handlers.cpp
void get_healthz(route_call& call);
void get_readyz(route_call& call);
void get_stats(route_call& call);
void get_metrics(route_call& call);

} // namespace switchboard::http
