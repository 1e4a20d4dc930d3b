// rows — turns result rows into the contract's JSON objects. One function
// per shape, so every endpoint that returns a book returns the same book.
#pragma once

#include <boost/json/object.hpp>
#include <pqxx/row>

namespace switchboard::store {

/// {id, author_id, title, description, published, chapter_count, updated_at}
boost::json::object book_json(const pqxx::row& row);

/// {id, username, display_name, bio, follower_count}
boost::json::object user_json(const pqxx::row& row);

/// {id, book_id, number, title, body, updated_at}
boost::json::object chapter_json(const pqxx::row& row);

/// {id, kind, read, created_at, data} — in this order: the notification
/// feed in Redis relies on "read" coming before "data" (see
/// src/live/notification_feed.cpp).
boost::json::object notification_json(const pqxx::row& row);

/// {id, chapter_id, user_id, body, created_at, author:{id, display_name}}
boost::json::object comment_json(const pqxx::row& row);

} // namespace switchboard::store
