"""lisflow.io"""
