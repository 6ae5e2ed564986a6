"""lisflow.launch"""
