// rows — see rows.hpp. Column order follows the SB_*_COLUMNS lists in
// statements.cpp.
#include "src/store/rows.hpp"

#include <boost/json/parse.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

boost::json::object book_json(const pqxx::row& row) {
  boost::json::object book;
  book["id"] = row[0].as<int64_t>();
  book["author_id"] = row[1].as<int64_t>();
  book["title"] = row[2].c_str();
  book["description"] = row[3].c_str();
  book["published"] = row[4].as<bool>();
  book["chapter_count"] = row[5].as<int64_t>();
  book["updated_at"] = row[6].c_str();
  return book;
}

boost::json::object user_json(const pqxx::row& row) {
  boost::json::object user;
  user["id"] = row[0].as<int64_t>();
  user["username"] = row[1].c_str();
  user["display_name"] = row[2].c_str();
  user["bio"] = row[3].c_str();
  user["follower_count"] = row[4].as<int64_t>();
  return user;
}

boost::json::object chapter_json(const pqxx::row& row) {
  boost::json::object chapter;
  chapter["id"] = row[0].as<int64_t>();
  chapter["book_id"] = row[1].as<int64_t>();
  chapter["number"] = row[2].as<int64_t>();
  chapter["title"] = row[3].c_str();
  chapter["body"] = row[4].c_str();
  chapter["updated_at"] = row[5].c_str();
  return chapter;
}

boost::json::object notification_json(const pqxx::row& row) {
  boost::json::object n;
  n["id"] = row[0].as<int64_t>();
  n["kind"] = row[1].c_str();
  n["read"] = row[2].as<bool>();
  n["created_at"] = row[3].c_str();
  boost::system::error_code ec;
  auto data = boost::json::parse(row[4].c_str(), ec);
  n["data"] = ec ? boost::json::value{boost::json::object{}} : std::move(data);
  return n;
}

boost::json::object comment_json(const pqxx::row& row) {
  boost::json::object c;
  c["id"] = row[0].as<int64_t>();
  c["chapter_id"] = row[1].as<int64_t>();
  c["user_id"] = row[2].as<int64_t>();
  c["body"] = row[3].c_str();
  c["created_at"] = row[4].c_str();
  c["author"] = boost::json::object{{"id", row[2].as<int64_t>()},
                                    {"display_name", row[5].c_str()}};
  return c;
}

} // namespace switchboard::store
