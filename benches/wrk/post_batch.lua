-- wrk script: array POSTs of 100 orders with unique order_ids: each wrk thread has its own
-- range, and each run starts 10^7 ids past the last run started a second or more earlier.
-- Usage: wrk -t2 -c16 -d20s -s benches/wrk/post_batch.lua http://127.0.0.1:8080/api/orders
local counter = 0
local threads = 0
local per_request = 100

function setup(thread)
  threads = threads + 1
  thread:set("base", threads * 1e13 + (os.time() % 1e6) * 1e7)
end

function init(args)
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local types = { "cheese", "pepperoni", "supreme", "meat lover", "veggie" }

function request()
  local orders = {}
  for i = 1, per_request do
    counter = counter + 1
    local id = base + counter
    orders[i] = string.format(
      '{"order_id":%d,"customer_id":%d,"type":"%s","qty":%d,"retail_price":%d.%02d,"order_date":"2026-11-2%dT18:%02d:00Z"}',
      id, 1 + id % 5000, types[1 + id % 5], 1 + id % 3, 10 + id % 40, id % 100, id % 5, id % 60)
  end
  return wrk.format(nil, nil, nil, "[" .. table.concat(orders, ",") .. "]")
end
