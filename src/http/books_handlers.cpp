// books_handlers — the book endpoints of the contract's "Cached reads":
// reads go through cached_read, writes through writes (which invalidate
// the book, the list pages and, for chapters, the chapter list).
#include "src/http/cached_read.hpp"
#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/json_body.hpp"
#include "src/http/sessions.hpp"
#include "src/http/writes.hpp"
#include "src/store/books.hpp"
#include "src/store/chapters.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace switchboard::http {

namespace {

constexpr int64_t default_page = 20;
constexpr int64_t max_page = 100;

std::string book_group(int64_t id) {
  return "book:" + std::to_string(id);
}

std::string chapters_group(int64_t book_id) {
  return "chapters:book:" + std::to_string(book_id);
}

const char* books_list_group = "books:list";

/// Reads {title, description, published} for create (`creating`) or patch.
std::optional<store::book_fields> book_fields_of(route_call& call,
                                                 bool creating) {
  auto body = body_or_400(call);
  if (!body)
    return std::nullopt;
  field_reader in{*body};
  store::book_fields fields;
  fields.title = in.string("title", 1, 200, creating);
  fields.description = in.string("description", 0, 5000, false);
  fields.published = in.boolean("published", false);
  if (in.rejected(call))
    return std::nullopt;
  return fields;
}

} // namespace

void get_book(route_call& call) {
  serve_item(call, "book", store::load_book);
}

void list_books(route_call& call) {
  int64_t limit = default_page;
  int64_t after = 0;
  if (auto* text = call.query_param("limit")) {
    auto [end, ec] =
        std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc{} || end != text->data() + text->size() || limit < 1 ||
        limit > max_page) {
      call.respond(bad_request("limit: must be an integer from 1 to 100"));
      return;
    }
  }
  if (auto* text = call.query_param("after")) {
    if (!parse_id(*text, after)) {
      call.respond(bad_request("after: must be a positive 64-bit integer"));
      return;
    }
  }
  serve_cached(
      call, "books:list:" + std::to_string(after) + ":" + std::to_string(limit),
      books_list_group, freshness_class::list,
      store::load_books_page(after, limit), "page");
}

void create_book(route_call& call) {
  auto fields = book_fields_of(call, true);
  if (!fields)
    return;
  auto copy = call; // the handler returns before the token is checked
  with_user(call, [copy, fields = *fields](int64_t user_id) mutable {
    run_write(copy, store::create_book(user_id, fields), 201,
              [](const boost::json::value* book) {
                std::vector<std::string> groups{books_list_group};
                if (book != nullptr) // a cached 404 for the new id must go too
                  groups.push_back(book_group(book->at("id").as_int64()));
                return groups;
              });
  });
}

void patch_book(route_call& call) {
  int64_t id = 0;
  if (!id_param(call, 0, id))
    return;
  auto fields = book_fields_of(call, false);
  if (!fields)
    return;
  auto copy = call;
  with_user(call, [copy, id, fields = *fields](int64_t user_id) mutable {
    run_write(
        copy, store::update_book(id, user_id, fields), 200,
        [id](const boost::json::value*) {
          return std::vector<std::string>{book_group(id), books_list_group};
        });
  });
}

void get_book_chapters(route_call& call) {
  int64_t id = 0;
  if (!id_param(call, 0, id))
    return;
  serve_cached(call, chapters_group(id), chapters_group(id),
               freshness_class::list, store::load_chapter_list(id), "book");
}

void create_chapter(route_call& call) {
  int64_t book_id = 0;
  if (!id_param(call, 0, book_id))
    return;
  auto body = body_or_400(call);
  if (!body)
    return;
  field_reader in{*body};
  auto title = in.string("title", 1, 200, true);
  auto text = in.string("body", 1, 200'000, true);
  if (in.rejected(call))
    return;
  auto copy = call;
  with_user(call, [copy, book_id, title = *title,
                   text = *text](int64_t user_id) mutable {
    run_write(
        copy, store::create_chapter(book_id, user_id, title, text), 201,
        [book_id](const boost::json::value* chapter) {
          std::vector<std::string> groups{book_group(book_id), books_list_group,
                                          chapters_group(book_id)};
          if (chapter != nullptr) // a cached 404 for the new id too
            groups.push_back("chapter:" +
                             std::to_string(chapter->at("id").as_int64()));
          return groups;
        });
  });
}

} // namespace switchboard::http
