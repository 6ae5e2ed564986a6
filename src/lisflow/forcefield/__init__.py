"""lisflow.forcefield"""
