"""lisflow.parsers"""
