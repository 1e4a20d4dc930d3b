// books_handlers — the book endpoints of the contract's "Cached reads":
// reads go through cached_read, writes through writes (which invalidate
// the book, the list pages and, for chapters, the chapter list).
#include "switchboard/atoms.hpp"

#include "src/http/cached_read.hpp"
#include "src/http/errors.hpp"
#include "src/http/events.hpp"
#include "src/http/handlers.hpp"
#include "src/http/idempotency.hpp"
#include "src/http/json_body.hpp"
#include "src/http/sessions.hpp"
#include "src/http/writes.hpp"
#include "src/store/books.hpp"
#include "src/store/chapters.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

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

/// What a TanStack Query client refetches when a book or its chapters change.
boost::json::value invalidate_book_hint(int64_t id) {
  return boost::json::object{
      {"invalidate",
       boost::json::array{boost::json::array{"books", id},
                          boost::json::array{"books", id, "chapters"}}}};
}

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
  std::optional<std::string> key;
  if (!fields || !read_idempotency_key(call, key))
    return;
  auto copy = call; // the handler returns before the token is checked
  with_user(call, [copy, fields = *fields, key](int64_t user_id) mutable {
    auto claim = idempotency_claim_for(copy, user_caller(user_id), key);
    run_write(
        copy, store::create_book(user_id, fields, claim),
        [](const boost::json::value* book) {
          std::vector<std::string> groups{books_list_group};
          if (book != nullptr) // a cached 404 for the new id must go too
            groups.push_back(book_group(book->at("id").as_int64()));
          return groups;
        },
        write_answer{[](const boost::json::value& book) {
                       return json_response(201, book);
                     },
                     nullptr});
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
    auto* self = copy.self;
    auto node = copy.node;
    run_write(
        copy, store::update_book(id, user_id, fields),
        [id](const boost::json::value*) {
          return std::vector<std::string>{book_group(id), books_list_group};
        },
        [self, node, id](boost::json::value& book) {
          emit_event(self, node, "books:" + std::to_string(id), "book.updated",
                     book, invalidate_book_hint(id));
          return json_response(200, book);
        });
  });
}

void get_book_chapters(route_call& call) {
  int64_t id = 0;
  if (!id_param(call, 0, id))
    return;
  serve_cached(
      call, chapters_group(id), chapters_group(id), freshness_class::list,
      store::load_chapter_list(id, call.node->config->chapter_list_max),
      "book");
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
  std::optional<std::string> key;
  if (in.rejected(call) || !read_idempotency_key(call, key))
    return;
  auto copy = call;
  with_user(call, [copy, book_id, title = *title, text = *text,
                   key](int64_t user_id) mutable {
    auto* self = copy.self;
    auto node = copy.node;
    auto claim = idempotency_claim_for(copy, user_caller(user_id), key);
    run_write(
        copy, store::create_chapter(book_id, user_id, title, text, claim),
        [book_id](const boost::json::value* chapter) {
          std::vector<std::string> groups{book_group(book_id), books_list_group,
                                          chapters_group(book_id)};
          if (chapter != nullptr) // a cached 404 for the new id too
            groups.push_back("chapter:" +
                             std::to_string(chapter->at("id").as_int64()));
          return groups;
        },
        write_answer{
            [](const boost::json::value& chapter) {
              return json_response(201, chapter);
            },
            [self, node, book_id](const boost::json::value& chapter,
                                  const answer_hold&) {
              auto& c = chapter.as_object();
              boost::json::object summary{{"id", c.at("id")},
                                          {"book_id", c.at("book_id")},
                                          {"number", c.at("number")},
                                          {"title", c.at("title")},
                                          {"updated_at", c.at("updated_at")}};
              emit_event(self, node, "books:" + std::to_string(book_id),
                         "chapter.created", summary,
                         invalidate_book_hint(book_id));
              // The followers' notifications: recorded with the chapter,
              // sent in the background by this node's fanout actor (or
              // another's).
              self->send(node->fanout, fanout_poke_atom::value);
            }});
  });
}

} // namespace switchboard::http
