"""The only code that speaks SQL: connections, migrations, the batching writer and the queries."""
