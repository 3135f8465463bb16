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
| all distributors (tier evaluation)       | users | GSI distributors: dist_shard (16), pk    | Query per shard, paginated |
| a distributor's milestones               | users | pk=user_id, sk begins_with "milestone#"  | conditional PutItem (once) |
| list products by category                | products | GSI by_category: category, product_id | Query, paginated |
| current lexicon version (≤ 1 per 10 s)   | content | pk="lexicon", sk="current"            | GetItem (eventually consistent) |
| save a lexicon version                   | content | version item + current                   | TransactWrite, conditioned on the base version |
| a week's materials, newest first         | content | GSI by_week: week, published_key         | Query, paginated |
| pending reviews, oldest first            | content | GSI queue (sparse): "pending", created_key | Query, paginated |
| decide a review exactly once             | content (+ users) | review + material or shop name | TransactWrite, conditioned on pending |

Table names come from settings (environment); ``tables.py`` lists every model, creates missing
tables locally and is the source infra/ generates CloudFormation from.
"""
