"""Domain core of Dang'an: catalogue models, values, errors, ports. Imports no other package of ours."""
