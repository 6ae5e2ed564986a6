"""lisflow.workflows"""
