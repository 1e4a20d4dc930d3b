// hiredis_asio — plugs a hiredis async context into an Asio executor (hiredis
// 0.14 ships no Asio adapter). It only watches the file descriptor and calls
// redisAsyncHandleRead/Write; it never owns or closes the descriptor (hiredis
// does) and never outlives the handlers it has armed.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>

struct redisAsyncContext;

namespace switchboard::redis {

class hiredis_asio_adapter;

/// Attaches `context` to `executor`; must run on that executor. The returned
/// adapter lives until hiredis calls its cleanup hook and every armed
/// handler has run.
std::shared_ptr<hiredis_asio_adapter>
attach_to_asio(redisAsyncContext* context,
               boost::asio::any_io_executor executor);

} // namespace switchboard::redis
