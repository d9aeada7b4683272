"""The `dir` source (a local folder). Elastic's class path for it is
`connectors.sources.directory:DirectoryDataSource`."""

from sluice.sources.directory.source import DirectorySource, file_id, sample_data_directory

__all__ = ["DirectorySource", "file_id", "sample_data_directory"]
