"""The ``__init__`` of every tsh AST node class: generated from the declarations in
``ast.py`` by ``python3 -m tockshell.lang.ast --write-init``; do not edit."""


class Nothing:
    """The default of a field computed from the others."""

    __slots__ = ()

    def __repr__(self):
        return "NOTHING"


NOTHING = Nothing()

SPECS = {
    'Node': '*pos=None',
    'Statement': '*pos=None',
    'Expr': '*pos=None',
    'Number': "*pos=None,value,text=''",
    'Duration': "*pos=None,nanoseconds,text=''",
    'Size': "*pos=None,bytes,text=''",
    'String': '*pos=None,text,data=self._data_default()',
    'Bytes': '*pos=None,data',
    'Var': '*pos=None,name',
    'Name': '*pos=None,name',
    'BinaryOp': '*pos=None,op,left,right',
    'Comparison': '*pos=None,op,left,right',
    'BoolOp': '*pos=None,op,left,right',
    'Not': '*pos=None,operand',
    'Negate': '*pos=None,operand',
    'Index': '*pos=None,target,index',
    'KeywordArg': '*pos=None,key,value',
    'Call': '*pos=None,func,args=(),kwargs=()',
    'ResultPattern': '*pos=None,variant,args=(),kwargs=(),called=False',
    'ListValue': '*pos=None,items',
    'Driver': '*pos=None,name=None,number=None',
    'Label': '*pos=None,name',
    'Null': '*pos=None',
    'AddressRange': '*pos=None,address,length',
    'Program': '*pos=None,statements',
    'Board': '*pos=None,name=None',
    'Config': '*pos=None,key,value',
    'Policy': '*pos=None,kind,service,allow',
    'Spawn': '*pos=None,name,options=()',
    'ListProcesses': '*pos=None',
    'Status': '*pos=None',
    'ShowKernel': '*pos=None',
    'ProcessDetail': '*pos=None,process',
    'ProcessControl': '*pos=None,process',
    'StopProcess': '*pos=None,process',
    'StartProcess': '*pos=None,process',
    'FaultProcess': '*pos=None,process,alias=None',
    'TerminateProcess': '*pos=None,process',
    'BootProcess': '*pos=None,process',
    'RestartProcess': '*pos=None,process',
    'Syscall': '*pos=None,process',
    'Command': '*pos=None,process,driver,command_num,arg0=None,arg1=None',
    'Subscribe': '*pos=None,process,driver,subscribe_num,handler,appdata=None',
    'Allow': '*pos=None,process,kind,driver,allow_num,buffer',
    'Yield': "*pos=None,process,mode='wait',driver=None,upcall_num=None",
    'Memop': '*pos=None,process,op,arg=None',
    'Exit': '*pos=None,process,kind,code=None',
    'RawSyscall': '*pos=None,process,cls,r0,r1=None,r2=None,r3=None',
    'Alloc': '*pos=None,process,length',
    'Write': '*pos=None,process,address,data',
    'ShowMemory': '*pos=None,process,address,length=None',
    'ShowGrants': '*pos=None,process',
    'ShowUpcalls': '*pos=None,process',
    'ShowAllows': '*pos=None,process',
    'ShowSubscriptions': '*pos=None,process',
    'ShowDescriptors': '*pos=None,process',
    'ShowServices': '*pos=None',
    'ShowMailbox': '*pos=None,process=None',
    'Stats': '*pos=None,reset=False',
    'Trace': '*pos=None,setting=None,lines=None',
    'Step': '*pos=None,count=None',
    'Run': '*pos=None,duration=None,until=None',
    'Now': '*pos=None',
    'Inject': '*pos=None,device,data,options=()',
    'Traffic': '*pos=None,device,options=(),duration=None',
    'Press': '*pos=None,button',
    'ConsoleInput': '*pos=None,data',
    'At': '*pos=None,time,body,relative=False',
    'Every': '*pos=None,period,body,duration=None',
    'Timeline': '*pos=None,duration=None',
    'BreakSyscall': '*pos=None,process=None,cls=None,driver=None,condition=None,temporary=False',
    'BreakUpcall': '*pos=None,process=None,driver=None,upcall_num=None,condition=None,temporary=False',
    'Ignore': '*pos=None,number,count',
    'Condition': '*pos=None,number,condition=None',
    'Commands': '*pos=None,number,body',
    'Catch': '*pos=None,kind,code=None,process=None',
    'Watch': '*pos=None,expr',
    'Display': '*pos=None,expr=None',
    'Undisplay': '*pos=None,number=None',
    'Info': '*pos=None,topic',
    'Delete': '*pos=None,numbers=()',
    'Disable': '*pos=None,numbers=()',
    'Enable': '*pos=None,numbers=()',
    'Next': '*pos=None,process',
    'Continue': '*pos=None',
    'Finish': '*pos=None',
    'Checkpoint': '*pos=None,name=None',
    'Restore': '*pos=None,name',
    'Diff': '*pos=None,a,b',
    'Rewind': '*pos=None,count=None',
    'ReverseStep': '*pos=None,count=None',
    'ReverseContinue': '*pos=None',
    'Goto': '*pos=None,event',
    'Save': '*pos=None,path',
    'Record': '*pos=None,path=None',
    'Export': '*pos=None,format,path',
    'Compare': '*pos=None,options=()',
    'Help': '*pos=None,topic=None',
    'Demo': '*pos=None,name=None',
    'Let': '*pos=None,name,value',
    'Echo': '*pos=None,args=()',
    'Print': '*pos=None,expr',
    'Expect': '*pos=None,expr',
    'Include': '*pos=None,path',
    'Param': '*pos=None,name,default',
    'Pause': '*pos=None',
    'Explain': '*pos=None',
    'Quit': '*pos=None',
}


def Node(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Statement(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Expr(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Number(self, value, text='', *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['value'] = value
    d['text'] = text


def Duration(self, nanoseconds, text='', *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['nanoseconds'] = nanoseconds
    d['text'] = text


def Size(self, bytes, text='', *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['bytes'] = bytes
    d['text'] = text


def String(self, text, data=NOTHING, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['text'] = text
    d['data'] = self._data_default() if data is NOTHING else data


def Bytes(self, data, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['data'] = data


def Var(self, name, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name


def Name(self, name, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name


def BinaryOp(self, op, left, right, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['op'] = op
    d['left'] = left
    d['right'] = right


def Comparison(self, op, left, right, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['op'] = op
    d['left'] = left
    d['right'] = right


def BoolOp(self, op, left, right, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['op'] = op
    d['left'] = left
    d['right'] = right


def Not(self, operand, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['operand'] = operand


def Negate(self, operand, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['operand'] = operand


def Index(self, target, index, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['target'] = target
    d['index'] = index


def KeywordArg(self, key, value, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['key'] = key
    d['value'] = value


def Call(self, func, args=(), kwargs=(), *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['func'] = func
    d['args'] = args
    d['kwargs'] = kwargs


def ResultPattern(self, variant, args=(), kwargs=(), called=False, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['variant'] = variant
    d['args'] = args
    d['kwargs'] = kwargs
    d['called'] = called


def ListValue(self, items, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['items'] = items


def Driver(self, name=None, number=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name
    d['number'] = number


def Label(self, name, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name


def Null(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def AddressRange(self, address, length, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['address'] = address
    d['length'] = length


def Program(self, statements, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['statements'] = statements


def Board(self, name=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name


def Config(self, key, value, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['key'] = key
    d['value'] = value


def Policy(self, kind, service, allow, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['kind'] = kind
    d['service'] = service
    d['allow'] = allow


def Spawn(self, name, options=(), *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name
    d['options'] = options


def ListProcesses(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Status(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def ShowKernel(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def ProcessDetail(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def ProcessControl(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def StopProcess(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def StartProcess(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def FaultProcess(self, process, alias=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['alias'] = alias


def TerminateProcess(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def BootProcess(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def RestartProcess(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def Syscall(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def Command(self, process, driver, command_num, arg0=None, arg1=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['driver'] = driver
    d['command_num'] = command_num
    d['arg0'] = arg0
    d['arg1'] = arg1


def Subscribe(self, process, driver, subscribe_num, handler, appdata=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['driver'] = driver
    d['subscribe_num'] = subscribe_num
    d['handler'] = handler
    d['appdata'] = appdata


def Allow(self, process, kind, driver, allow_num, buffer, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['kind'] = kind
    d['driver'] = driver
    d['allow_num'] = allow_num
    d['buffer'] = buffer


def Yield(self, process, mode='wait', driver=None, upcall_num=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['mode'] = mode
    d['driver'] = driver
    d['upcall_num'] = upcall_num


def Memop(self, process, op, arg=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['op'] = op
    d['arg'] = arg


def Exit(self, process, kind, code=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['kind'] = kind
    d['code'] = code


def RawSyscall(self, process, cls, r0, r1=None, r2=None, r3=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['cls'] = cls
    d['r0'] = r0
    d['r1'] = r1
    d['r2'] = r2
    d['r3'] = r3


def Alloc(self, process, length, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['length'] = length


def Write(self, process, address, data, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['address'] = address
    d['data'] = data


def ShowMemory(self, process, address, length=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['address'] = address
    d['length'] = length


def ShowGrants(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def ShowUpcalls(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def ShowAllows(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def ShowSubscriptions(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def ShowDescriptors(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def ShowServices(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def ShowMailbox(self, process=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def Stats(self, reset=False, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['reset'] = reset


def Trace(self, setting=None, lines=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['setting'] = setting
    d['lines'] = lines


def Step(self, count=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['count'] = count


def Run(self, duration=None, until=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['duration'] = duration
    d['until'] = until


def Now(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Inject(self, device, data, options=(), *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['device'] = device
    d['data'] = data
    d['options'] = options


def Traffic(self, device, options=(), duration=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['device'] = device
    d['options'] = options
    d['duration'] = duration


def Press(self, button, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['button'] = button


def ConsoleInput(self, data, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['data'] = data


def At(self, time, body, relative=False, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['time'] = time
    d['body'] = body
    d['relative'] = relative


def Every(self, period, body, duration=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['period'] = period
    d['body'] = body
    d['duration'] = duration


def Timeline(self, duration=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['duration'] = duration


def BreakSyscall(self, process=None, cls=None, driver=None, condition=None, temporary=False, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['cls'] = cls
    d['driver'] = driver
    d['condition'] = condition
    d['temporary'] = temporary


def BreakUpcall(self, process=None, driver=None, upcall_num=None, condition=None, temporary=False, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process
    d['driver'] = driver
    d['upcall_num'] = upcall_num
    d['condition'] = condition
    d['temporary'] = temporary


def Ignore(self, number, count, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['number'] = number
    d['count'] = count


def Condition(self, number, condition=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['number'] = number
    d['condition'] = condition


def Commands(self, number, body, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['number'] = number
    d['body'] = body


def Catch(self, kind, code=None, process=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['kind'] = kind
    d['code'] = code
    d['process'] = process


def Watch(self, expr, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['expr'] = expr


def Display(self, expr=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['expr'] = expr


def Undisplay(self, number=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['number'] = number


def Info(self, topic, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['topic'] = topic


def Delete(self, numbers=(), *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['numbers'] = numbers


def Disable(self, numbers=(), *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['numbers'] = numbers


def Enable(self, numbers=(), *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['numbers'] = numbers


def Next(self, process, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['process'] = process


def Continue(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Finish(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Checkpoint(self, name=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name


def Restore(self, name, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name


def Diff(self, a, b, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['a'] = a
    d['b'] = b


def Rewind(self, count=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['count'] = count


def ReverseStep(self, count=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['count'] = count


def ReverseContinue(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Goto(self, event, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['event'] = event


def Save(self, path, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['path'] = path


def Record(self, path=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['path'] = path


def Export(self, format, path, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['format'] = format
    d['path'] = path


def Compare(self, options=(), *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['options'] = options


def Help(self, topic=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['topic'] = topic


def Demo(self, name=None, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name


def Let(self, name, value, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name
    d['value'] = value


def Echo(self, args=(), *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['args'] = args


def Print(self, expr, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['expr'] = expr


def Expect(self, expr, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['expr'] = expr


def Include(self, path, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['path'] = path


def Param(self, name, default, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
    d['name'] = name
    d['default'] = default


def Pause(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Explain(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos


def Quit(self, *, pos=None):
    d = self.__dict__
    d['pos'] = pos
