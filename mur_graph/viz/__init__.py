"""Pictures: the graph's structure (`draw`) and one solved problem's reasoning path (`html`)."""
