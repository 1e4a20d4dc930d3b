// chapters_handlers — GET and PATCH /api/chapters/:id.
#include "src/http/cached_read.hpp"
#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/json_body.hpp"
#include "src/http/sessions.hpp"
#include "src/http/writes.hpp"
#include "src/store/chapters.hpp"

#include <boost/json.hpp>

namespace switchboard::http {

void get_chapter(route_call& call) {
  serve_item(call, "chapter", store::load_chapter);
}

void patch_chapter(route_call& call) {
  int64_t id = 0;
  if (!id_param(call, 0, id))
    return;
  auto body = body_or_400(call);
  if (!body)
    return;
  field_reader in{*body};
  auto title = in.string("title", 1, 200, false);
  auto text = in.string("body", 1, 200'000, false);
  if (in.rejected(call))
    return;
  auto copy = call;
  with_user(call, [copy, id, title, text](int64_t user_id) mutable {
    run_write(
        copy, store::update_chapter(id, user_id, title, text), 200,
        [id](const boost::json::value* chapter) {
          std::vector<std::string> groups{"chapter:" + std::to_string(id)};
          // Unknown outcome: the chapter list expires with its TTL.
          if (chapter != nullptr)
            groups.push_back("chapters:book:" +
                             std::to_string(chapter->at("book_id").as_int64()));
          return groups;
        });
  });
}

} // namespace switchboard::http
