// The formats layer is part of the library's API: a user of ANNKit reads and writes files too.
@_exported import ANNFormats
