"""lisflow.analysis"""
