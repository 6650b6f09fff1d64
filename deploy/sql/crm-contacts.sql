-- The demo CRM's own table, which the sample sync configuration (config/contacts-sync.json) links
-- as system "crm". Tandem's connector adds its change-capture triggers to it at first start.
CREATE TABLE IF NOT EXISTS contacts (
  id serial PRIMARY KEY,
  full_name text,
  email text,
  phone text
);
