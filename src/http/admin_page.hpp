// admin_page — the operators' /admin page: one self-contained HTML document
// (no external assets) that polls /stats/cluster and draws every node's
// figures live. Text only; serving and access control are ops_handlers'.
#pragma once

namespace switchboard::http {

const char* admin_page_html();

} // namespace switchboard::http
