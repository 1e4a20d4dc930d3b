// hiredis_asio — see hiredis_asio.hpp. Each direction (read, write) has at
// most one async_wait armed; hiredis turns interest on and off through the
// ev hooks, and `cleanup` may arrive from inside HandleRead/HandleWrite, so
// every handler re-checks `context_` after calling into hiredis.
#include "src/redis/hiredis_asio.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <hiredis/async.h>

namespace switchboard::redis {

namespace asio = boost::asio;

class hiredis_asio_adapter
    : public std::enable_shared_from_this<hiredis_asio_adapter> {
public:
  hiredis_asio_adapter(redisAsyncContext* context,
                       asio::any_io_executor executor)
      : context_(context), descriptor_(executor, context->c.fd) {}

  ~hiredis_asio_adapter() {
    // hiredis owns the fd: give it back instead of closing it.
    if (descriptor_.is_open())
      descriptor_.release();
  }

  void install() {
    auto& ev = context_->ev;
    ev.data = this;
    ev.addRead = [](void* p) {
      self(p)->want(side::read);
    };
    ev.delRead = [](void* p) {
      self(p)->state(side::read).wanted = false;
    };
    ev.addWrite = [](void* p) {
      self(p)->want(side::write);
    };
    ev.delWrite = [](void* p) {
      self(p)->state(side::write).wanted = false;
    };
    ev.cleanup = [](void* p) {
      self(p)->cleanup();
    };
    // hiredis holds only a raw pointer: keep ourselves alive until cleanup.
    keep_alive_ = shared_from_this();
  }

private:
  enum class side { read, write };

  struct interest {
    bool wanted = false; // hiredis wants to know about readiness
    bool armed = false;  // an async_wait is pending
  };

  static hiredis_asio_adapter* self(void* p) {
    return static_cast<hiredis_asio_adapter*>(p);
  }

  interest& state(side which) { return which == side::read ? read_ : write_; }

  void want(side which) {
    auto& dir = state(which);
    dir.wanted = true;
    if (!dir.armed)
      arm(which);
  }

  void arm(side which) {
    state(which).armed = true;
    auto wait_type = which == side::read
                         ? asio::posix::descriptor_base::wait_read
                         : asio::posix::descriptor_base::wait_write;
    descriptor_.async_wait(wait_type, [self = shared_from_this(),
                                       which](boost::system::error_code ec) {
      self->state(which).armed = false;
      if (ec || self->context_ == nullptr || !self->state(which).wanted)
        return;
      if (which == side::read)
        redisAsyncHandleRead(self->context_);
      else
        redisAsyncHandleWrite(self->context_);
      // The call may have cleaned the context up or dropped interest.
      auto& after = self->state(which);
      if (self->context_ != nullptr && after.wanted && !after.armed)
        self->arm(which);
    });
  }

  void cleanup() {
    context_ = nullptr;
    read_.wanted = write_.wanted = false;
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    descriptor_.release();
    // Pending handlers hold their own references; drop the one for hiredis.
    keep_alive_.reset();
  }

  redisAsyncContext* context_;
  asio::posix::stream_descriptor descriptor_;
  interest read_;
  interest write_;
  std::shared_ptr<hiredis_asio_adapter> keep_alive_;
};

std::shared_ptr<hiredis_asio_adapter>
attach_to_asio(redisAsyncContext* context, asio::any_io_executor executor) {
  auto adapter = std::make_shared<hiredis_asio_adapter>(context, executor);
  adapter->install();
  return adapter;
}

} // namespace switchboard::redis
