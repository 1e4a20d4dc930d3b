// routes — the node's route table: every endpoint it serves, in one list,
// with the layer that serves it (router.hpp, route_layer).
#include "src/http/handlers.hpp"
#include "src/http/router.hpp"

namespace switchboard::http {

const router& node_routes() {
  static const router table = [] {
    router r;
    // identity
    r.add("POST", "/api/auth/register", register_account);
    r.add("POST", "/api/auth/login", login);
    r.add("POST", "/api/auth/logout", logout);
    // cached reads and their writes
    r.add("GET", "/api/books", list_books, {"limit", "after"});
    r.add("POST", "/api/books", create_book);
    r.add("GET", "/api/books/:id", get_book);
    r.add("PATCH", "/api/books/:id", patch_book);
    r.add("GET", "/api/books/:id/chapters", get_book_chapters);
    r.add("POST", "/api/books/:id/chapters", create_chapter);
    r.add("GET", "/api/chapters/:id", get_chapter);
    r.add("PATCH", "/api/chapters/:id", patch_chapter);
    r.add("GET", "/api/users/:id", get_user);
    r.add("PATCH", "/api/users/me", patch_me);
    r.add("DELETE", "/api/users/me", delete_me);
    r.add("GET", "/api/coin-packages", get_coin_packages);
    // live comments, wallet, notifications, follows
    r.add("GET", "/api/chapters/:id/comments", list_comments,
          {"limit", "before"});
    r.add("POST", "/api/chapters/:id/comments", post_comment);
    r.add("GET", "/api/me/balance", get_balance);
    r.add("POST", "/api/me/purchases", post_purchase);
    r.add("POST", "/api/gifts", post_gift);
    r.add("GET", "/api/me/notifications", get_notifications, {"limit"});
    r.add("POST", "/api/me/notifications/:id/read", post_notification_read);
    r.add("POST", "/api/books/:id/follow", follow_book);
    r.add("DELETE", "/api/books/:id/follow", unfollow_book);
    // live connections: the WebSocket handshake is upgraded by the socket
    // layer, GET /sse turns the connection into an event stream
    r.add_websocket("/ws", websocket_upgrade_required);
    r.add("GET", "/sse", open_event_stream, {"channels", "last_event_id"});
    // presence
    r.add("GET", "/api/presence/users/:id", get_user_presence);
    r.add("GET", "/api/presence/online", get_online_users);
    r.add("GET", "/api/channels/:channel/presence", get_channel_presence);
    // server API
    r.add_io("POST", "/api/publish", post_publish, publish_on_io);
    // operations
    r.add("GET", "/healthz", get_healthz);
    r.add("GET", "/readyz", get_readyz);
    r.add("GET", "/stats", get_stats);
    r.add("GET", "/stats/cluster", get_cluster_stats);
    r.add("GET", "/admin", get_admin);
    r.add("GET", "/metrics", get_metrics);
    // the demo web app: every other GET outside /api
    r.fallback(serve_web);
    return r;
  }();
  return table;
}

} // namespace switchboard::http
