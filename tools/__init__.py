"""Tools outside the domain: the generated histories (the small demo and the national generator) and the bench."""
