-- The customers of one enrichment batch, in ONE round trip (CONTRACT §4).
--
-- @P1 (NVARCHAR(MAX)): the batch's distinct customer ids as a JSON array of integers,
--                      e.g. [1,2,3]; tiberius names positional parameters @P1, @P2, ...
-- Returns customer_id, name, address, city, state, zip_code (in this order) for the ids
-- that exist; an unknown id is simply absent (the order is landed with
-- customer_found = false).
--
-- Why this shape:
-- - one statement per batch, whatever its size: a batch of 10,000 ids is one parameter,
--   far from the 2,100-parameter limit of a request, and one plan is cached for all sizes;
-- - no SQL is built from values: the ids travel as data, OPENJSON turns them into a rowset
--   (an element that is not an integer fails the statement instead of being interpreted);
-- - IN (subquery) returns each customer once even if an id is repeated in the array;
-- - it reads dbo.customers only, which is all the Function App's identity may do
--   (grant_function_identity.sql). OPENJSON needs database compatibility level 130 or
--   higher (Azure SQL Database's default is higher).
SELECT c.customer_id, c.name, c.address, c.city, c.state, c.zip_code
FROM dbo.customers AS c
WHERE c.customer_id IN (
    SELECT ids.customer_id
    FROM OPENJSON(@P1) WITH (customer_id BIGINT '$') AS ids
);
