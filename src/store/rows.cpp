// rows — see rows.hpp. Column order follows the SB_*_COLUMNS lists in
// statements.cpp.
#include "src/store/rows.hpp"

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

} // namespace switchboard::store
