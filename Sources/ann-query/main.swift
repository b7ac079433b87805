import ANNCommands

ToolRunner.main(QueryCommand.self)
