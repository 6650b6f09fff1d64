-- Runs once, when the PostgreSQL volume is first initialised: the demo CRM gets a database of its
-- own beside Tandem's (POSTGRES_DB), as a customer's CRM would be a separate database.
CREATE DATABASE crm;
