"""lisflow.ml"""
