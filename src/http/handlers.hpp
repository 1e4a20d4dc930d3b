// handlers — every endpoint handler, declared once; routes.cpp maps them to
// paths. One .cpp per area of the contract defines them.
#pragma once

#include "src/http/router.hpp"

namespace switchboard::redis {
class connection;
} // namespace switchboard::redis

namespace switchboard::http {

// books_handlers.cpp
void get_book(route_call& call);
void list_books(route_call& call);
void create_book(route_call& call);
void patch_book(route_call& call);
void get_book_chapters(route_call& call);
void create_chapter(route_call& call);

// chapters_handlers.cpp
void get_chapter(route_call& call);
void patch_chapter(route_call& call);

// users_handlers.cpp
void register_account(route_call& call);
void login(route_call& call);
void logout(route_call& call);
void get_user(route_call& call);
void patch_me(route_call& call);
void delete_me(route_call& call);
void get_coin_packages(route_call& call);

// comments_handlers.cpp
void list_comments(route_call& call);
void post_comment(route_call& call);

// wallet_handlers.cpp
void get_balance(route_call& call);
void post_purchase(route_call& call);
void post_gift(route_call& call);

// notifications_handlers.cpp
void get_notifications(route_call& call);
void post_notification_read(route_call& call);

// follows_handlers.cpp
void follow_book(route_call& call);
void unfollow_book(route_call& call);

// presence_handlers.cpp
void get_user_presence(route_call& call);
void get_online_users(route_call& call);
void get_channel_presence(route_call& call);

// live_handlers.cpp
/// GET /ws without a WebSocket handshake (the socket layer upgrades those).
void websocket_upgrade_required(route_call& call);
/// GET /sse: hands the request to the connection (its stream_host).
void open_event_stream(route_call& call);

// publish_handlers.cpp
void post_publish(route_call& call);
/// The same on the io thread (src/http/io_routes.cpp), straight to Redis.
void publish_on_io(route_call& call, redis::connection& redis);

// static_handlers.cpp
void serve_web(route_call& call);

// ops_handlers.cpp
void get_healthz(route_call& call);
void get_readyz(route_call& call);
void get_stats(route_call& call);
void get_cluster_stats(route_call& call);
void get_admin(route_call& call);
void get_metrics(route_call& call);

} // namespace switchboard::http
