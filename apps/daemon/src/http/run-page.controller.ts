import { readFileSync } from 'node:fs';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';

/** The page's three files, read once: they ship beside this file (copied by the build). */
const file = (name: string): string => readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');

/**
 * The run-history page: plain HTML, CSS and script over the run API. Reading needs no token, as
 * for `GET /runs`; the cancel and retry buttons ask for it.
 */
@ApiTags('page')
@Controller('ui')
export class RunPageController {
  private readonly html = file('index.html');
  private readonly script = file('run-page.js');
  private readonly style = file('run-page.css');

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'the run-history page' })
  page(): string {
    return this.html;
  }

  @Get('run-page.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @ApiProduces('text/javascript')
  @ApiResponse({ status: 200, description: "the page's script" })
  scriptFile(): string {
    return this.script;
  }

  @Get('run-page.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @ApiProduces('text/css')
  @ApiResponse({ status: 200, description: "the page's style sheet" })
  styleFile(): string {
    return this.style;
  }
}
