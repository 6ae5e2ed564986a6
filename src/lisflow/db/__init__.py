"""lisflow.db"""
