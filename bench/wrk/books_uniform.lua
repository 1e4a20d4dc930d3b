-- books_uniform.lua — wrk script: GET <prefix><id> with id uniform over
-- 1..WRK_MAX_ID (default 100000), counting the distinct ids requested; done()
-- prints `distinct_keys <n>` and `requested <n>` (the union over threads).
-- Env: WRK_PATH_PREFIX (default /api/books/), WRK_MAX_ID. Used by
-- bench/driver.mjs (reads, cold misses).
local prefix = os.getenv("WRK_PATH_PREFIX") or "/api/books/"
local max_id = tonumber(os.getenv("WRK_MAX_ID") or "100000")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

seen = {}
requested = 0

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
  local id = math.random(1, max_id)
  seen[id] = true
  requested = requested + 1
  return wrk.format("GET", prefix .. id)
end

function done(summary, latency, requests)
  local union, total = {}, 0
  for _, thread in ipairs(threads) do
    local s = thread:get("seen")
    for id, _ in pairs(s) do union[id] = true end
    total = total + thread:get("requested")
  end
  local n = 0
  for _ in pairs(union) do n = n + 1 end
  io.write(string.format("distinct_keys %d\nrequested %d\n", n, total))
end
