import ANNCommands

ToolRunner.main(DupCommand.self)
