"""Engines behind one small interface: write inputs, run (through custodian), parse."""
