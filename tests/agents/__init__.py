"""Agent loops (LangChain, LangGraph, LlamaIndex) on the scripted server and the real one."""
