"""The paper's tables and figures, assembled only from files the DAG produced."""
