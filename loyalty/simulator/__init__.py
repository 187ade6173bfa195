"""What-if simulator: a category ladder replayed week by week over past orders.

Entry points: `loyalty.simulator.services`; the replay: `loyalty.simulator.engine`;
docs/simulator.md explains the figures to merchants."""
