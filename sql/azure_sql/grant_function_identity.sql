-- The Function App's access to dbo.customers: its system-assigned managed identity becomes a
-- contained database user that may read that one table and nothing else (least privilege:
-- no role membership, no other object, no write).
--
-- Run in the customers database (not master), connected as the server's Microsoft Entra
-- admin (only an Entra principal can create users FROM EXTERNAL PROVIDER). Idempotent.
--
-- Placeholder (replaced by the deployment before the script runs):
--   {{function_app_name}}  the Function App's name, which is the display name of its
--                          system-assigned identity; validated as 2-60 characters of
--                          [A-Za-z0-9-], not starting or ending with '-', so it can neither
--                          close the [ ] quoting nor the N' ' literal it is placed in.
IF DATABASE_PRINCIPAL_ID(N'{{function_app_name}}') IS NULL
    CREATE USER [{{function_app_name}}] FROM EXTERNAL PROVIDER;

GRANT SELECT ON dbo.customers TO [{{function_app_name}}];
