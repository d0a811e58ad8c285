-- wrk script: client_credentials token requests (as ../shared/bench/cc.lua, plus RESOURCE and
-- a check of every answer).
-- env: AUTH (the Authorization header value, e.g. "Basic $(printf 'id:secret' | base64 -w0)"),
--      SCOPE (default api:read), RESOURCE (optional RFC 8707 resource indicator).
-- A response is an error unless it is a 200 whose body carries an access_token.
-- usage: AUTH=... wrk -s bench/cc.lua -t1 -c64 -d10s http://127.0.0.1:PORT/TOKEN_PATH
local body = 'grant_type=client_credentials&scope=' .. (os.getenv('SCOPE') or 'api:read')
local resource = os.getenv('RESOURCE')
if resource and resource ~= '' then
  body = body .. '&resource=' .. resource:gsub('[^%w%-%._~]', function(c) return string.format('%%%02X', c:byte()) end)
end
wrk.method = 'POST'
wrk.headers['Content-Type'] = 'application/x-www-form-urlencoded'
wrk.headers['Authorization'] = os.getenv('AUTH')
wrk.body = body

local threads = {}
function setup(thread) table.insert(threads, thread) end

bad = 0
function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"access_token"', 1, true) then
    bad = bad + 1
    if bad <= 3 then io.stderr:write('bad answer: ', status, ' ', body:sub(1, 300), '\n') end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local n = e.connect + e.read + e.write + e.timeout
  for _, t in ipairs(threads) do n = n + (t:get('bad') or 0) end
  io.write(string.format('rps %.0f p50_ms %.2f p99_ms %.2f errors %d\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, n))
end
