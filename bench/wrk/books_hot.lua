-- books_hot.lua — wrk script: GET <prefix><id> with id uniform over 1..WRK_MAX_ID
-- (default 1000: the hot set the driver warmed first). Env: WRK_PATH_PREFIX
-- (default /api/books/), WRK_MAX_ID. Used by bench/driver.mjs (reads, hot).
local prefix = os.getenv("WRK_PATH_PREFIX") or "/api/books/"
local max_id = tonumber(os.getenv("WRK_MAX_ID") or "1000")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
  return wrk.format("GET", prefix .. math.random(1, max_id))
end
