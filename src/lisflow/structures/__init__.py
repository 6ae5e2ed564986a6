"""lisflow.structures"""
