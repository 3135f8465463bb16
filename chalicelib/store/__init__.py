"""The only code that speaks DynamoDB. One module per aggregate; PynamoDB models never leave it.

Access patterns (pattern → table → key / index → operation):

| pattern                                  | table | key / index                              | operation |
|------------------------------------------|-------|------------------------------------------|-----------|
| log in (create or touch a user)          | users | pk=user_id, sk="profile"                 | UpdateItem (if_not_exists), 1 call |
| read a user with both upline levels      | users | pk=user_id, sk="profile"                 | GetItem (consistent) |
| resolve an invite code + read the binder | users | pk="invite#CODE", sk="invite" + profile  | BatchGetItem (consistent), 1 call |
| open a shop (claim a unique invite code) | users | profile + invite item                    | TransactWriteItems |
| climb the tree two levels per read       | users | pk=ancestor, sk="profile"                | GetItem (only when the binder has a downline) |
| bind (user, counters, moved children)    | users | profile items                            | TransactWriteItems with conditions |
| list a distributor's direct downline     | users | GSI by_parent: parent_id, bound_at       | Query, paginated |
| distributors awaiting the month change   | users | GSI above_base (sparse, keys only): ranked_shard (16), ranked_key `< <month>` | Query per shard, paginated + BatchGetItem (consistent) a page |
| store a month change                     | users (+ ledger: the partner roll) | profile conditioned on every figure read | UpdateItem (TransactWriteItems with a partner's roll) |
| an upgrade, or its guard                 | users (+ ledger: the partner roll) | level 1's / the binding's counter updates carry it | in the payment's / binding's TransactWriteItems |
| the operator's list of distributors      | users | GSI shops (sparse, keys only): shop_shard (16), shop_key; frozen_users: frozen_shard (16), frozen_key; above_base for a tier | Query per shard (16), merged + BatchGetItem of profiles + BatchGetItem of wallets (ledger) |
| manual tier / freeze / unfreeze          | users + admin | profile conditioned on what was read + the audit entry (absent) | TransactWriteItems |
| the audit log                            | admin | pk="audit#<Shanghai day>", sk="<at>#<id>"; GSI by_actor / by_action over a day range | Query per day / one Query of an index |
| a distributor's milestones               | users | pk=user_id, sk begins_with "milestone#"  | Query |
| count an invitee (completion)            | users | Query pk=inviter (count + milestones); count `=` read or `<` next milestone, milestone put (absent) | in the completion's TransactWriteItems |
| list listed products (all / by category) | products | GSI listing: catalog / by_category: shelf (sparse: listed only, INCLUDE projection without stock), product_id; the page's stock: its items and cells | Query, paginated + BatchGetItem |
| a split product's cells (flash sale)     | products | product item (cell 0, K, span) + "<product>#cell#<i>" | BatchGetItem (consistent) ×2, on a refused take only |
| re-split a product's stock over K cells  | products | product item + every cell of the span, each `stock =` as read | GetItem + BatchGetItem + TransactWriteItems |
| checkout reads                           | users + products + orders | buyer profile, product ids (eventually consistent), "idem#<buyer>#<key>" | BatchGetItem across tables, 1 call |
| place an order                           | orders + products | order, key claim (TTL 7 d), stock `>= q` per take (a random cell of a split product) | TransactWriteItems |
| a buyer's orders, newest first           | orders | GSI by_buyer: buyer_id, created_key     | Query, paginated |
| admin order list (filters, newest first) | orders | GSI by_day "<day>#<shard>" / by_status "<status>#<day>#<shard>" / by_buyer / by_level1 + by_level2 / ship_reports "<pending|failed>#<shard>" (keys only; by_buyer whole) | Query per lane, merged newest first (≤ 64 a page) + BatchGetItem (consistent) |
| ship (admin)                             | orders, admin | order `= paid` (shipped, report pending in ship_reports) + audit entry | GetItem + TransactWriteItems |
| a shipping report's outcome              | orders | order `report_attempts =` as read | UpdateItem |
| pending shipping reports due (job)       | orders | GSI ship_reports (sparse): "pending#<shard>", `report_due ≤ now` (projected) | Query per shard, paginated + BatchGetItem |
| pay (notification)                       | orders, ledger, users | order `= pending_payment`; commission, wallet, entry per payee not frozen; buyer and level-1 counters; each payee's freeze as read | GetItem + BatchGetItem (buyer, level 1, level 2) + TransactWriteItems |
| unpaid orders past their deadline        | orders | GSI unpaid (sparse): unpaid_day = "<day>#<shard>" (16), pay_deadline_key | Query per day and shard, 50 a page (job) + BatchGetItem |
| shipped orders due for auto-confirmation | orders | GSI to_confirm (sparse): confirm_day = "<day>#<shard>", confirm_due_key | Query per day and shard (job) + BatchGetItem |
| complete / refund / cancel               | orders, ledger, products, users (+ analytics: the refund day's counters) | conditioned on the observed status | TransactWriteItems |
| open an after-sales case                 | after_sales, orders | case (absent) + order item `open_case_id` absent, `case_count` as read, status shipped/completed | GetItem + TransactWriteItems |
| the after-sales queue by status          | after_sales | GSI queue: "<status>#<shard>" (16), created_key | Query per shard (≤ 64 a page), merged newest first |
| a buyer's / an order's cases             | after_sales | GSI by_buyer (buyer_id) / by_order (order_id, keys only) + BatchGetItem | Query, paginated |
| move a case (cancel, return, reject, decide) | after_sales (+ orders: open case released; + admin: the audit entry) | case `status =` as read and no refund under way | TransactWriteItems |
| refund a case                            | after_sales + the refund's items (docs/after-sales.md) | case `status =` as read and refund under way, order `open_case_id =` the case | in the refund's TransactWriteItems |
| wallet, commissions of a user            | ledger | pk=user_id, sk="wallet" / begins_with "commission#" | GetItem / Query |
| commissions due by now (settle)          | ledger | GSI settle_queue (sparse): settle_shard (16), settle_key ≤ now | Query per shard, paginated (job part) |
| settle a batch (≤ 100 items)             | ledger (+ analytics) | commission `= frozen` + settlement entry (absent) each, one wallet per user, the day's `commission_settled_fen` shard | TransactWriteItems |
| wallets touched on a day (reconcile)     | ledger | GSI touched (sparse, keys only): touched_day = "<day>#<shard>", pk | Query per day and shard, paginated (job part) |
| withdrawals in flight (polling job) / under review (operator) | ledger | GSI open_withdrawals (sparse): wd_open = "in_flight#<shard>" (16) / "reviewing", wd_key | Query per shard / Query, paginated |
| a wallet's entries (reconcile)           | ledger | pk=user_id, sk begins_with "entry#" | Query (consistent), paginated |
| credit a cash milestone (once)           | users, ledger | the milestone's put (absent) with `credited_at` + reward entry (absent) + wallet | in the completion's TransactWriteItems |
| team sales of a month                    | ledger | pk=user_id, sk="teamsales#YYYY-MM" (ADD in pay/refund) | in their TransactWriteItems |
| record a partner of a month              | ledger | pk="partners#YYYY-MM#<shard>", sk=user_id | a put in the tier decision's transaction |
| the partners of a month (team bonus job) | ledger | pk="partners#YYYY-MM#<shard>" (a part each) + their "teamsales#YYYY-MM" | Query a page + BatchGetItem (consistent) |
| the team bonus's marks                   | ledger | pk="job#team_bonus", sk="month#YYYY-MM" / "shard#YYYY-MM#<shard>" | GetItem / Query (plan), PutItem |
| accrue a team bonus (once per month)     | ledger | teamsales `paid_at` absent and `amount_fen` = sales read + "teambonus#YYYY-MM" (absent, listed in settle_queue) + entry (absent) + wallet `pending` | GetItem + TransactWriteItems |
| after-sales refund (partial)             | orders, ledger, products, users (+ analytics) | the order item conditioned on its status and `refund_count` as read (+ the caller's condition), each commission on its status and amount read; stock ADD; entries `entry#<order>#<level>#<reversal or clawback>#<refund no>` put if absent | TransactWriteItems (`OrderStore.refund_part`) |
| refund: commissions and team bonuses     | ledger | "commission#<order>#<level>" + "teambonus#<paid month>" of level 1 and 2 | BatchGetItem (consistent), 1 call; their reversal/clawback (or a ConditionCheck that none accrued) in the refund's TransactWriteItems |
| settle a pending team bonus              | ledger | GSI settle_queue (as commissions); bonus `= pending` and amount as listed + settlement entry (absent) | in the settlement batch's TransactWriteItems |
| verify a real name (one identity, one account) | users | profile (no other ID-number hash) + pk="idnum#<hash>", sk="idnum" (absent or owned by the user) | TransactWriteItems |
| current lexicon version (≤ 1 per 10 s)   | content | pk="lexicon", sk="current"            | GetItem (eventually consistent) |
| save a lexicon version                   | content | version item + current                   | TransactWrite, conditioned on the base version |
| a week's materials, newest first         | content | GSI by_week: week, published_key         | Query, paginated |
| pending reviews, oldest first            | content | GSI queue (sparse): "pending", created_key | Query, paginated |
| decide a review exactly once             | content (+ users) | review + material or shop name | TransactWrite, conditioned on pending |
| a user's variant (first time: exposure)  | analytics | pk="exp#u#<user>", sk=experiment; counter "exp#<name>"/"x#<variant>#<shard>" | GetItem (consistent); first time TransactWriteItems: put (absent) + ADD |
| a buyer's conversions after a payment    | analytics | Query pk="exp#u#<user>"; exposure `score` absent + ADD "c#<variant>#<shard>" | Query (consistent) + TransactWriteItems per unconverted exposure |
| experiment figures (admin metrics)       | analytics | pk="exp#<name>" (variant counters, 4 shards each) | Query per experiment |
| recommendations job (daily, 8 parts)     | analytics, products | a new day: Query "pday#<day>#<b>#<s>" per bucket and shard, "basket#<day>#<p>" per partition (paged) → chunks "rec#sum#<day>#<r>" (r: 64 job buckets); markers "rec#day#<day>", "rec#run#<run day>"; window totals "rec#win#"; lists; categories | BatchGetItem (markers) + Query + BatchWriteItem per step (services/recommendation_job.py) |
| a product's recommendations              | products, analytics | product; "rec#p#<id>" + "rec#c#<category>"; listed candidates | GetItem + BatchGetItem + BatchGetItem |
| a user's home list                       | analytics, orders, products | exposure; GSI by_buyer (10 newest); "rec#u#<user>"/"viewed"; "rec#hot" + "rec#p#<recent>"; "rec#c#<category>"; listed candidates | GetItem + Query + BatchGetItem ×4 (6 round trips) |
| remember a user's latest product views   | analytics | pk="rec#u#<user>", sk="viewed" (TTL 30 d) | PutItem per events batch with product views |
| count a batch of events (≤ 49 a chunk)  | analytics | "uv#<user>"/day + "sess#<session>"/day (states); "evt#<id>" markers (absent), "day#<day>#<0-31>"/"counts", "pday#<day>#<bucket 0-7>#<0-3>"/"p#<product>" | BatchGetItem (consistent) + TransactWriteItems per chunk and day |
| mark a visitor (login, authenticated request; once per user, day and process) | analytics | "uv#<user>"/day put if absent + a random day shard's `visitors` | TransactWriteItems (refused: marked already, nothing else) |
| a customer-service push (once)           | support | "c#<user>"/"conv" (`version =` as read, or absent) + message "c#<user>"/"m#<at>#<id>" + marker "wx#<MsgId>"/"seen" (absent, TTL 3 d) | GetItem + GetItem (user, eventually consistent) + TransactWriteItems |
| the inbox queue / every conversation     | support | GSI queue (sparse): "q#<shard>" (16), "<priority>#<waiting since>#<user>" ascending; GSI recent: "r#<shard>", "<last at>#<user>" descending | Query per shard (limit + 1 each), merged + BatchGetItem (users) |
| a conversation's messages                | support | pk="c#<user>", sk begins_with "m#", newest first | GetItem + Query, paginated |
| reply / close (admin)                    | support, admin | message (absent) + conversation `version =` as read + audit entry | TransactWriteItems (after WeChat took the reply) |
| record subscribe consents (≤ 10 templates a request) | support | pk="s#<user>", sk="t#<template id>" `credits` ADD 1 | UpdateItem per accepted template |
| a user's consents left                   | support | pk="s#<user>", sk begins_with "t#" | Query (consistent) |
| queue a subscribe message (once per cause, one consent spent) | support | consent GetItem; then consent `credits > 0` ADD −1 + message "s#<user>"/"m#<kind>#<cause>" (absent; `outbox` while pending) | GetItem + TransactWriteItems |
| a message's attempt (claim, outcome)     | support | message `attempts =` as read and `state = pending` | UpdateItem |
| subscribe messages due (job)             | support | GSI outbox (sparse): outbox_shard (16), outbox_key = "<due>#<user>#<key>" ≤ now | Query per shard, paginated |
| WeChat Pay / transfer simulator state (simulator mode only) | simulator (local, not deployed) | pk="pay#<out_trade_no>" / "transfer#<out_bill_no>" | GetItem (consistent) per call + PutItem per change |
| count a fact (login, bind, ship, complete, withdrawal paid) | analytics | "fact#<kind>#<id>" (absent) + a random day shard (+ "u#<user>"/"buyer" at registration) | TransactWriteItems |
| count a paid order                       | analytics | "u#<buyer>"/"buyer" + "u#<payee>"/"dist" (versioned states), "uv#<buyer>"/day; "fact#paid#<order>" (absent), day and product shards, changed states, "basket#<day>#<0-15>"/order | BatchGetItem (consistent) + TransactWriteItems |
| a day's counters and its metric window   | analytics | "day#<day>#<0-31>"/"counts" of yesterday and the day + "metrics"/"win#<day − 2>" | BatchGetItem (65 fixed keys) |
| a bucket's product counters, their stock | analytics, products | Query "pday#<day>#<bucket>#<s>" for the 4 shards, merged in id order; product ids, 100 at a time | 4 Queries (paged) + BatchGetItem per 100 |
| store a day's row and windows            | analytics | "metrics"/"day#<day>", "metrics"/"win#<day − 1>", "win#<day>" | BatchWriteItem |
| store a chunk of a day's product metrics | analytics | "mprod#<day>"/"<bucket>#<first product>" (≤ 100 products); an earlier run's chunks in its id range deleted | Query (keys) + BatchWriteItem |
| the rows of a date range (≤ 366 days)    | analytics | Query "metrics", sk between "day#<from>" and "day#<to>"; per day Query "mprod#<day>" | Query + Query per day, paginated by PynamoDB |

Table names come from settings (environment); ``tables.py`` lists every model, creates missing
tables locally and is the source infra/ generates CloudFormation from.
"""
