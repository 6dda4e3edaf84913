package lua

import "github.com/yuin/gopher-lua/ast"

// gopher-lua runs a generic for's iterator in a nested Go call (its
// TFORLOOP uses callR), so a blocking call inside an iterator, such as a
// coroutine.wrap generator that calls tern.call, could not yield. We
// compile every script after rewriting
//
//	for k, v in explist do body end
//
// into the loop the Lua manual gives as its meaning:
//
//	do
//	  local f, s, var = explist
//	  while true do
//	    local k, v = f(s, var)
//	    if k == nil then break end
//	    var = k
//	    body
//	  end
//	end
//
// where the iterator is an ordinary CALL, which can yield.

// Hidden locals: names no script can write.
const (
	forGen   = "(for generator)"
	forState = "(for state)"
	forCtl   = "(for control)"
)

func rewriteForIn(stmts []ast.Stmt) {
	for i, s := range stmts {
		stmts[i] = rewriteStmt(s)
	}
}

func rewriteStmt(s ast.Stmt) ast.Stmt {
	switch s := s.(type) {
	case *ast.GenericForStmt:
		rewriteForIn(s.Stmts)
		for _, e := range s.Exprs {
			rewriteExpr(e)
		}
		return lowerForIn(s)
	case *ast.AssignStmt:
		rewriteExprs(s.Lhs)
		rewriteExprs(s.Rhs)
	case *ast.LocalAssignStmt:
		rewriteExprs(s.Exprs)
	case *ast.FuncCallStmt:
		rewriteExpr(s.Expr)
	case *ast.DoBlockStmt:
		rewriteForIn(s.Stmts)
	case *ast.WhileStmt:
		rewriteExpr(s.Condition)
		rewriteForIn(s.Stmts)
	case *ast.RepeatStmt:
		rewriteExpr(s.Condition)
		rewriteForIn(s.Stmts)
	case *ast.IfStmt:
		rewriteExpr(s.Condition)
		rewriteForIn(s.Then)
		rewriteForIn(s.Else)
	case *ast.NumberForStmt:
		rewriteExpr(s.Init)
		rewriteExpr(s.Limit)
		rewriteExpr(s.Step)
		rewriteForIn(s.Stmts)
	case *ast.FuncDefStmt:
		rewriteExpr(s.Func)
	case *ast.ReturnStmt:
		rewriteExprs(s.Exprs)
	}
	return s
}

func rewriteExprs(es []ast.Expr) {
	for _, e := range es {
		rewriteExpr(e)
	}
}

func rewriteExpr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.FunctionExpr:
		rewriteForIn(e.Stmts)
	case *ast.AttrGetExpr:
		rewriteExpr(e.Object)
		rewriteExpr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			rewriteExpr(f.Key)
			rewriteExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		rewriteExpr(e.Func)
		rewriteExpr(e.Receiver)
		rewriteExprs(e.Args)
	case *ast.LogicalOpExpr:
		rewriteExpr(e.Lhs)
		rewriteExpr(e.Rhs)
	case *ast.RelationalOpExpr:
		rewriteExpr(e.Lhs)
		rewriteExpr(e.Rhs)
	case *ast.StringConcatOpExpr:
		rewriteExpr(e.Lhs)
		rewriteExpr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		rewriteExpr(e.Lhs)
		rewriteExpr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		rewriteExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		rewriteExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		rewriteExpr(e.Expr)
	}
}

func lowerForIn(s *ast.GenericForStmt) ast.Stmt {
	line, last := s.Line(), s.LastLine()
	at := func(st ast.Stmt) ast.Stmt { st.SetLine(line); st.SetLastLine(line); return st }
	ident := func(name string) ast.Expr {
		e := &ast.IdentExpr{Value: name}
		e.SetLine(line)
		e.SetLastLine(line)
		return e
	}
	call := &ast.FuncCallExpr{Func: ident(forGen), Args: []ast.Expr{ident(forState), ident(forCtl)}}
	call.SetLine(line)
	call.SetLastLine(line)
	isNil := &ast.RelationalOpExpr{Operator: "==", Lhs: ident(s.Names[0]), Rhs: &ast.NilExpr{}}
	isNil.SetLine(line)
	isNil.SetLastLine(line)
	body := []ast.Stmt{
		at(&ast.LocalAssignStmt{Names: s.Names, Exprs: []ast.Expr{call}}),
		at(&ast.IfStmt{Condition: isNil, Then: []ast.Stmt{at(&ast.BreakStmt{})}}),
		at(&ast.AssignStmt{Lhs: []ast.Expr{ident(forCtl)}, Rhs: []ast.Expr{ident(s.Names[0])}}),
	}
	loop := &ast.WhileStmt{Condition: &ast.TrueExpr{}, Stmts: append(body, s.Stmts...)}
	loop.SetLine(line)
	loop.SetLastLine(last)
	block := &ast.DoBlockStmt{Stmts: []ast.Stmt{
		at(&ast.LocalAssignStmt{Names: []string{forGen, forState, forCtl}, Exprs: s.Exprs}),
		loop,
	}}
	block.SetLine(line)
	block.SetLastLine(last)
	return block
}
