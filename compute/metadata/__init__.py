"""The metadata guests read about themselves: the metadata API
(stratus-compute-metadata) and the config drive, built from one content module."""
